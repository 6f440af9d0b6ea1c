"""`lessons similar`: lessons close in meaning to an indexed lesson or to a draft file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checks import check_file
from .errors import UsageError
from .kb import KnowledgeBase
from .passages import lesson_passages
from .search import SimilarHit, centroid, lesson_vector, similar_to_vector
from .settings import Settings
from .store import IndexData


def find_similar(kb: KnowledgeBase, data: IndexData, embedder: Any, target: str, settings: Settings, top: int,
                 exclude: set[str] = frozenset()) -> tuple[str, list[SimilarHit]]:
    """Similar lessons for `target` (an indexed id or a file path); the target's own id is always excluded."""
    path = Path(target)
    if target.endswith(".md") or path.exists():
        vector, lesson_id, technologies = draft_vector(kb, embedder, path)
    else:
        lesson_id = target
        vector = lesson_vector(data, target)
        technologies = data.facets["technologies"][data.row_of(target)]  # type: ignore[index]
    hits = similar_to_vector(data, vector, technologies, {lesson_id, *exclude}, top, settings.duplicate_threshold,
                             settings.related_threshold)
    return lesson_id, hits


def draft_vector(kb: KnowledgeBase, embedder: Any, path: Path):
    """Embed a lesson file that may not be in the index (its errors other than schema ones are tolerated)."""
    if not path.is_file():
        raise UsageError(f"{path}: no such lesson file")
    findings, lesson, _ = check_file(path, kb.taxonomy, kb.relpath(path))
    if lesson is None:
        first = next((f.format() for f in findings if f.level == "error"), f"{path}: unreadable")
        raise UsageError(f"cannot compare {path}: fix its front matter first ({first})")
    passages = lesson_passages(lesson, kb.taxonomy)
    return centroid(embedder.encode([p.embed_text for p in passages])), lesson.id, lesson.meta.technologies


def similar_to_text(data: IndexData, embedder: Any, text: str, technologies: list[str], settings: Settings,
                    top: int = 3) -> list[SimilarHit]:
    """The lessons closest to a few words (a new lesson's title and summary), whatever their score."""
    vector = embedder.encode([text])[0]
    return similar_to_vector(data, vector, technologies, set(), top, settings.duplicate_threshold, -1.0)
