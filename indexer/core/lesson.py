"""A validated lesson: what the index and the site are made from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .reader import Section

if TYPE_CHECKING:  # pydantic stays off the query path: only the checker builds FrontMatter objects
    from .schema import FrontMatter


@dataclass
class Lesson:
    """A lesson that passed every error-level rule: ready for the index and the site."""

    id: str
    path: Path
    meta: FrontMatter
    body: str
    body_line: int
    sections: list[Section]
