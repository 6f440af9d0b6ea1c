"""Shared fixtures: a temporary knowledge base with the project's taxonomy, and lesson text builders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent

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


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """An empty knowledge base (taxonomy only) in a temporary folder; returns its root."""
    (tmp_path / "lessons").mkdir()
    shutil.copy(REPO / "lessons" / "taxonomy.yml", tmp_path / "lessons" / "taxonomy.yml")
    return tmp_path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


class FakeEmbedder:
    """A small deterministic embedder for unit tests: hashed bag of words, unit length. Shared words mean closeness."""

    dimension = 64

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts, batch_size: int = 32, progress=None):
        import hashlib

        import numpy as np

        from indexer.keyword import tokenize

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
    para = (f"We are a small company and we worked on {topic} for months. The {topic} project had a budget of "
            f"12,000 euros and six people. Everything we learned about {topic} is written here for others. ") * 3
    body = "".join(f"## {h}\n\n{para}\n\n" for h in ("Context", "What we did", "What happened", "Lessons learned"))
    front.setdefault("title", f'"Our experience with {topic}"')
    return lesson_text(body=body, **front)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the ONNX export of the bundled model, made once per test session (imports torch once)."""
    from indexer.embed import ensure_onnx, resolve_model

    cache = tmp_path_factory.mktemp("model-cache")
    ensure_onnx(resolve_model("bundled"), cache)
    return cache


@pytest.fixture
def real_model(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the tool at the shared ONNX export (the real bundled model)."""
    monkeypatch.setenv("LESSONS_CACHE_DIR", str(model_cache))
    return model_cache


def copy_site_kb(target: Path) -> Path:
    """A copy of this repository's knowledge base with everything the site needs (lessons, mkdocs.yml, docs/)."""
    shutil.copytree(REPO / "lessons", target / "lessons")
    shutil.copytree(REPO / "docs", target / "docs", ignore=shutil.ignore_patterns("generated"))
    (target / "docs" / "generated").mkdir()
    (target / "docs" / "generated" / ".gitkeep").write_text("")
    for name in ("mkdocs.yml", "lessons.toml"):
        shutil.copy(REPO / name, target / name)
    return target
