"""Splitting lessons into passages: one for title, summary and key metadata, then one per section,
long sections cut into windows of about 200 tokens (150 words) that overlap a little."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.lesson import Lesson
from ..core.taxonomy import Taxonomy

WINDOW_WORDS = 150  # about 200 word-piece tokens for English prose
OVERLAP_WORDS = 30
SUMMARY = "Summary"


@dataclass(frozen=True)
class Passage:
    """A piece of a lesson: `text` is what a reader sees, `embed_text` what the model reads (with the title for context)."""

    lesson_id: str
    section: str
    text: str
    embed_text: str


def lesson_passages(lesson: Lesson, taxonomy: Taxonomy) -> list[Passage]:
    """All passages of a lesson, summary passage first."""
    meta = lesson.meta
    techs = ", ".join(taxonomy.technologies.get(t, t) for t in meta.technologies)
    facts = (
        f"Sector: {taxonomy.sectors.get(meta.sector, meta.sector)}. Company size: {meta.company_size}. "
        f"Technologies: {techs}. Outcome: {meta.outcome}."
    )
    passages = [Passage(lesson.id, SUMMARY, meta.summary, f"{meta.title}\n{meta.summary}\n{facts}")]
    for section in lesson.sections:
        words = section.text.split()
        if not words:
            continue
        heading = section.heading or SUMMARY
        for chunk in _windows(words):
            passages.append(Passage(lesson.id, heading, chunk, f"{meta.title}. {heading}:\n{chunk}"))
    return passages


def _windows(words: list[str]) -> list[str]:
    if len(words) <= WINDOW_WORDS + OVERLAP_WORDS:
        return [" ".join(words)]
    step = WINDOW_WORDS - OVERLAP_WORDS
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + WINDOW_WORDS]))
        if start + WINDOW_WORDS >= len(words):
            break
    return chunks


def keyword_text(lesson: Lesson, taxonomy: Taxonomy) -> str:
    """The text BM25 sees for a lesson: title, metadata names and the body.

    The summary is left out: it repeats the body in other words (and is embedded in the summary
    passage), and counting those words twice lowered keyword quality on the development data.
    """
    meta = lesson.meta
    names = [
        taxonomy.sectors.get(meta.sector, meta.sector),
        meta.outcome,
        meta.company_size,
        *(taxonomy.technologies.get(t, t) for t in meta.technologies),
        *meta.technologies,
        *meta.tags,
        *meta.products,
    ]
    return "\n".join([meta.title, " ".join(names), lesson.body])
