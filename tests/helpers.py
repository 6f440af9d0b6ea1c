"""Shared test helpers: lesson text builders, a small fake embedder, and a copy of this repository's knowledge base."""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.search.bm25 import tokenize

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

BODY_EN = """## Context

We are a small wholesaler of building supplies with 22 staff in one warehouse and an office of five people.
Our customers are builders and installers who order by phone and e-mail, and we sent about 1,800 invoices
a month as PDF files from an old accounting package.

## What we did

We chose an access point for structured e-invoices, cleaned the customer master data for six weeks and
trained the two people in accounts. The project cost about 14,000 euros including the software licence.

## What happened

Receiving worked from the first day. Sending took longer because a third of our customers had wrong or
missing identifiers, and each of them had to be called. After five months 95 per cent of invoices went out
as e-invoices and payment came on average six days sooner than before.

## Lessons learned

The software was the easy part. The customer data was the hard part, and we should have started cleaning it
a year earlier. Plan for the phone calls, and measure payment times before you start so you can show the gain.
"""


def lesson_text(body: str = BODY_EN, **front: object) -> str:
    """A valid English lesson; keyword arguments replace (or, with None, remove) front-matter keys."""
    values: dict[str, object] = {
        "title": '"Moving our invoices to e-invoicing before the mandate"',
        "summary": '"A 22-person wholesaler moved 95% of its invoices to e-invoicing in five months for 14,000 EUR."',
        "date": "2025-09-14",
        "sector": "retail-wholesale",
        "company_size": "small",
        "technologies": "[e-invoicing, accounting-software]",
        "outcome": "success",
        "sample": "true",
    }
    for key, value in front.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    lines = ["---", *(f"{k}: {v}" for k, v in values.items()), "---", ""]
    return "\n".join(lines) + body


class FakeEmbedder:
    """A small deterministic embedder for unit tests: hashed bag of words, unit length. Shared words mean closeness."""

    dimension = 64

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Any = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in tokenize(text):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-9)
        self.calls.append(len(texts))
        if progress:
            progress(len(texts), len(texts))
        return out


FAKE_IDENTITY = {"spec": "fake", "name": "fake-hash-embedder", "sha256": "0" * 64, "dimension": FakeEmbedder.dimension}


def topic_lesson(topic: str, **front: object) -> str:
    """A valid lesson whose whole text is about `topic` (a few words repeated in every section)."""
    para = (
        f"We are a small company and we worked on {topic} for months. The {topic} project had a budget of "
        f"12,000 euros and six people. Everything we learned about {topic} is written here for others. "
    ) * 3
    body = "".join(f"## {h}\n\n{para}\n\n" for h in ("Context", "What we did", "What happened", "Lessons learned"))
    front.setdefault("title", f'"Our experience with {topic}"')
    return lesson_text(body=body, **front)


def copy_site_kb(target: Path) -> Path:
    """A copy of this repository's knowledge base with everything the site needs (lessons, mkdocs.yml, docs/)."""
    shutil.copytree(REPO / "lessons", target / "lessons")
    shutil.copytree(REPO / "docs", target / "docs", ignore=shutil.ignore_patterns("generated"))
    (target / "docs" / "generated").mkdir()
    (target / "docs" / "generated" / ".gitkeep").write_text("")
    for name in ("mkdocs.yml", "lessons.toml"):
        shutil.copy(REPO / name, target / name)
    return target


REVIEW_LESSONS = [
    "mfa-rollout-dental-clinic",
    "ransomware-recovery-accounting-firm",
    "ransomware-attack-logistics-company",
    "cloud-erp-food-distributor",
    "cloud-erp-furniture-maker-failure",
    "voip-phone-system-plumbing-company",
    "online-shop-craft-brewery",
    "crm-engineering-consultancy-abandoned",
]
GIT_USER = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def review_repo(tmp_path: Path) -> Path:
    """A git repository holding a few starter lessons on branch main, for `lessons review`."""
    root = tmp_path / "kb"
    (root / "lessons").mkdir(parents=True)
    shutil.copy(REPO / "lessons" / "taxonomy.yml", root / "lessons")
    for lesson_id in REVIEW_LESSONS:
        shutil.copy(REPO / "lessons" / f"{lesson_id}.md", root / "lessons")
    (root / ".gitignore").write_text(".lessons/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, *GIT_USER, "add", ".")
    git(root, *GIT_USER, "commit", "-q", "-m", "base")
    return root


def propose_changes(root: Path) -> None:
    """Commit what a pull request might bring: a near-duplicate, a new topic, a deletion and a rename."""
    lessons = root / "lessons"
    original = (lessons / "mfa-rollout-dental-clinic.md").read_text()
    body_start = original.index("\n---\n", 4) + 5
    # a near-duplicate told again under another name: front matter kept, body lightly reworded and cut
    draft = original[:body_start] + original[body_start:].replace("clinic", "practice").rsplit("\n\n", 2)[0] + "\n"
    (lessons / "two-factor-login-at-our-dental-practice.md").write_text(draft)
    (lessons / "beekeeping-hive-sensors.md").write_text(topic_lesson("beekeeping hive monitoring", technologies="[iot-sensors]"))
    git(root, "rm", "-q", "lessons/online-shop-craft-brewery.md")
    git(root, "mv", "lessons/voip-phone-system-plumbing-company.md", "lessons/voip-for-a-plumbing-company.md")
    git(root, *GIT_USER, "commit", "-q", "-m", "pr")


def make_unreadable_folder(top: Path) -> str:
    """Folders nested under `top` until the innermost one's path is longer than PATH_MAX: no process, not even root,
    can list it by its path. Returns that path. Made with directory descriptors, which have no length limit."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    path = str(top)
    try:
        while len(path) <= 4200:
            os.mkdir("d" * 200, dir_fd=fd)
            inner = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, path = inner, path + "/" + "d" * 200
    finally:
        os.close(fd)
    return path


def issue_body(**overrides: str) -> str:
    """A body as GitHub renders a submitted 'Share a lesson' form."""
    answers = {
        "Title": "Our bakery moved its orders to a cloud ERP",
        "Summary": "A 30-person bakery moved orders and invoices to a cloud ERP in four months for 18,000 EUR.",
        "Sector": "Manufacturing",
        "Company size": "Small (10-49 staff)",
        "Outcome": "Partial success",
        "Technologies": "Cloud ERP, e-invoicing, barcode scanners",
        "Language of the lesson": "English",
        "Country": "ie",
        "Total cost in euros": "18,000 €",
        "Duration in months": "4",
        "Would you do it again?": "Yes, with changes",
        "Context": "We bake for 60 shops.\n\nOrders came by phone and fax, and three people typed them in every night.",
        "What we did": "We chose a cloud ERP for food producers and cleaned our product list for six weeks first.",
        "What happened": "Order entry time fell from 3 hours to 40 minutes a night, but the label printer never worked.",
        "Lessons learned": "Test every printer and scanner before you sign; clean the data before the migration, not during it.",
        "Advice": "_No response_",
        "Your name or organisation": "Panadería Ejemplo",
        "Publishing your name": "- [ ] Publish my name or my organisation's name with the lesson",
    }
    answers.update(overrides)
    return "\n\n".join(f"### {label}\n\n{value}" for label, value in answers.items()) + "\n"


def front_matter(text: str) -> dict:
    """The front matter of a lesson's text, as YAML reads it."""
    import yaml

    return yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))


def installed_tool(name: str) -> str | None:
    """A command-line tool installed with this environment (or with the shared one whose packages are on sys.path),
    else on PATH; None when it is nowhere."""
    bins = [Path(sys.executable).parent] + [Path(p).parents[2] / "bin" for p in sys.path if p.endswith("site-packages")]
    return next((str(b / name) for b in bins if (b / name).exists()), None) or shutil.which(name)


def _hold_lock(folder: str, command: str, ready: Any, release: Any) -> None:
    from indexer.search import lock

    with lock.writer_lock(Path(folder), wait=0, command=command):
        ready.set()
        release.wait(120)


@contextlib.contextmanager
def lock_held(folder: Path, command: str = "lessons index") -> Iterator[int]:
    """Another process holds the index's writer lock in `folder` during the block; yields its pid."""
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(folder), command, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        assert holder.pid is not None
        yield holder.pid
    finally:
        release.set()
        holder.join(30)


# Questions as a visitor types them, on topics the starter lessons cover, in English and Spanish: the search page
# and `lessons search` must agree on them (tests/slow/test_search_page.py, bench/search_page.py).
PAGE_QUERIES = [
    "has anyone tried e-invoicing?",
    "¿alguien ha probado la factura electrónica?",
    "moving our accounting to the cloud",
    "ERP project that went over budget",
    "ransomware attack recovery for a small office",
    "two-factor authentication for staff",
    "VoIP phone system instead of landlines",
    "route planning software for delivery vans",
    "online shop for a small brewery",
    "CRM that nobody used",
    "temperature sensors in fridges",
    "chatbot for bookings",
    "point of sale system in a bakery",
    "backups of our files",
    "copias de seguridad en la nube",
    "robotic process automation for invoices",
    "Google Workspace migration",
    "field service app for technicians",
    "training employees about phishing",
    "fleet telematics to save fuel",
    "digitalizar un taller mecánico",
    "GDPR and customer data",
]
