"""Hand-written cases for search quality on the starter lessons: bilingual questions about covered and uncovered
topics, invented product names placed in single lessons, and retold copies of lessons (reordered, retitled).

The benchmarks (bench/search_quality.py, bench/similar_calibration.py) and the slow tests use the same cases,
so a figure in docs/how-search-works.md can be checked by a test.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.search.session import SearchSession

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = Path(__file__).resolve().parent / "data" / "questions.jsonl"
# Written afterwards by someone who never saw the search rules, only the starter lessons and the taxonomy: its
# figures are reported, never tuned on (docs/how-search-works.md).
HELD_OUT_QUESTIONS = QUESTIONS.with_name("questions_heldout.jsonl")


@dataclass(frozen=True)
class Question:
    """A question as a user would type it; `topic` lists the starter lessons about it (empty: nobody wrote about it)."""

    id: str
    language: str
    text: str
    topic: tuple[str, ...]


def questions(path: Path = QUESTIONS) -> list[Question]:
    """A bilingual question set (by default bench/data/questions.jsonl), in file order."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            out.append(Question(item["id"], item["language"], item["text"], tuple(item["topic"])))
    return out


# Invented names, each written into one starter lesson: (name, lesson id, the sentence added to that lesson).
PRODUCTS = (
    ("Quorvex", "backup-vendor-lost-month-architects", "Before this provider we had tried a Quorvex appliance for a week."),
    ("Zentralyx", "cloud-erp-furniture-maker-failure", "The cloud ERP we chose was Zentralyx, sold by a local partner."),
    ("Pobrix", "point-of-sale-bakery-chain", "The tills are Pobrix tablets, chosen after a trial in one shop."),
    ("Velmora", "voip-phone-system-plumbing-company", "The handsets on the desks are Velmora models from the provider."),
    ("Kastellan", "password-manager-law-firm-abandoned", "The password manager we bought was Kastellan Business."),
    ("Truvani", "payroll-switch-cleaning-company", "The new payroll package is Truvani, which our adviser recommended."),
    ("Nimbalo", "erp-nube-distribuidora-bebidas", "El ERP que elegimos se llama Nimbalo y lo vende un distribuidor local."),
    ("Fakturo", "facturacion-electronica-taller-mecanico", "El programa de facturas que usamos ahora es Fakturo."),
)
PRODUCT_QUERIES = ("has anyone tried {name}?", "{name} experiences", "{name}")
# Names of real rules and formats that appear in one starter lesson each.
REGULATIONS = (("XRechnung", "einvoicing-rollout-print-shop"), ("Verifactu", "facturacion-electronica-taller-mecanico"))


def product_queries() -> list[tuple[str, str]]:
    """(query, the lesson that names it) for every invented product and regulation name, in every query form."""
    names = [(name, lesson) for name, lesson, _ in PRODUCTS] + list(REGULATIONS)
    return [(form.format(name=name), lesson) for name, lesson in names for form in PRODUCT_QUERIES]


def make_product_kb(root: Path, products: tuple[tuple[str, str, str], ...] = PRODUCTS) -> Path:
    """A copy of the starter knowledge base where each invented product is named by one sentence in one lesson
    (with `products=()`, a plain copy). The search index of this repository, when present, is copied too, so
    that only the changed passages are embedded again."""
    shutil.copytree(REPO / "lessons", root / "lessons")
    shutil.copy(REPO / "lessons.toml", root / "lessons.toml")
    if (REPO / ".lessons" / "index").is_dir():
        shutil.copytree(REPO / ".lessons" / "index", root / ".lessons" / "index", ignore=shutil.ignore_patterns("lock"))
    for _, lesson_id, sentence in products:
        path = root / "lessons" / f"{lesson_id}.md"
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{sentence}\n", encoding="utf-8")
    return root


def retold(text: str, new_id: str) -> str:
    """A retelling of a lesson file: a new title, the sections in reverse order under each other's headings,
    and the paragraphs of each section in reverse order: the same story, nothing in the same place."""
    _, front, body = text.split("---\n", 2)
    front = re.sub(r"(?m)^title: .*$", f'title: "Looking back: {new_id.replace("-", " ")}"', front)
    front = re.sub(r"(?m)^related: .*\n", "", front)
    parts = re.split(r"(?m)^(## .*)$", body)
    headings, texts = parts[1::2], parts[2::2]
    texts = ["\n\n".join(reversed([p for p in t.strip().split("\n\n") if p.strip()])) for t in texts]
    sections = [f"{heading}\n\n{chunk}\n" for heading, chunk in zip(headings, reversed(texts))]
    return f"---\n{front}---\n{parts[0]}" + "\n".join(sections)


def lightly_edited(text: str) -> str:
    """A resubmission: the last paragraph dropped and a few words changed."""
    lines = text.rstrip("\n").split("\n")
    body_start = lines.index("---", 1) + 1
    body = [line.replace(" we ", " our team ") for line in lines[body_start:-2]]
    return "\n".join(lines[:body_start] + body) + "\n"


def held_out(query_id: str) -> bool:
    """The fixed half of a development set kept out of tuning: the first 8 hex digits of the id's SHA-256 are odd."""
    return int(hashlib.sha256(query_id.encode("utf-8")).hexdigest()[:8], 16) % 2 == 1


@dataclass
class Tally:
    """How many of some questions passed, and which did not."""

    passed: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, name: str) -> None:
        self.passed += ok
        self.total += 1
        if not ok:
            self.misses.append(name)

    @property
    def share(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def __str__(self) -> str:
        missed = f" (missed: {', '.join(self.misses)})" if self.misses else ""
        return f"{self.passed}/{self.total} = {self.share:.0%}{missed}"


def bilingual_figures(session: SearchSession, path: Path = QUESTIONS) -> dict[str, Tally]:
    """On the starter lessons, for the question set at `path`: a lesson in the other language in the top 5 (per
    question language), one in the same language in the top 5, and `nothing_close` right for covered and uncovered
    topics (per language)."""
    languages = dict(zip(session.index.ids, session.index.facets["language"]))
    asked = questions(path)
    answers = session.answer([q.text for q in asked], top_k=5)
    tallies: dict[str, Tally] = {}
    for q, found in zip(asked, answers):
        top = {hit.id for hit in found.hits}
        other = {t for t in q.topic if languages[t] != q.language}
        same = {t for t in q.topic if languages[t] == q.language}
        if other:
            tallies.setdefault(f"cross-language top 5, {q.language} questions", Tally()).add(bool(top & other), q.id)
        if same:
            tallies.setdefault(f"same-language top 5, {q.language} questions", Tally()).add(bool(top & same), q.id)
        kind = "covered" if q.topic else "uncovered"
        tallies.setdefault(f"nothing_close right, {kind}, {q.language}", Tally()).add(found.nothing_close != bool(q.topic), q.id)
    return dict(sorted(tallies.items()))


def product_figures(session: SearchSession) -> Tally:
    """On the product knowledge base: the lesson naming a product or regulation ranked first for each query form."""
    cases = product_queries()
    tally = Tally()
    for (query, lesson), found in zip(cases, session.answer([q for q, _ in cases], top_k=1)):
        tally.add(bool(found.hits) and found.hits[0].id == lesson, query)
    return tally
