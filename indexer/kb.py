"""The knowledge base on disk: where its root is, which files are lessons, its taxonomy."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .errors import KnowledgeBaseNotFound, UsageError
from .vocabulary import Taxonomy, load_taxonomy

LESSONS_DIR = "lessons"
TAXONOMY_FILE = "taxonomy.yml"
INDEX_DIR = ".lessons"


@dataclass
class KnowledgeBase:
    """A knowledge-base repository: a root folder holding `lessons/`."""

    root: Path

    @property
    def lessons_dir(self) -> Path:
        return self.root / LESSONS_DIR

    @property
    def index_dir(self) -> Path:
        return self.root / INDEX_DIR

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return load_taxonomy(self.lessons_dir / TAXONOMY_FILE)

    def lesson_files(self) -> list[Path]:
        """Every `*.md` file under `lessons/`, sorted; symbolic links are listed (check refuses them) but not followed."""
        return sorted(_walk_markdown(self.lessons_dir))

    def relpath(self, path: Path) -> str:
        """A path as users should see it: relative to the current folder when possible."""
        try:
            return os.path.relpath(path)
        except ValueError:
            return str(path)


def markdown_paths(folder: Path | str) -> list[str]:
    """Paths (strings, cheaper than Path objects for 10,000 files) of every `*.md` below `folder`, skipping hidden ones."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(os.path.join(dirpath, name) for name in filenames if name.endswith(".md") and not name.startswith("."))
    return found


def _walk_markdown(folder: Path) -> list[Path]:
    return [Path(p) for p in markdown_paths(folder)]


def find_root(start: Path | None = None, explicit: Path | str | None = None) -> KnowledgeBase:
    """The knowledge base at `explicit`, or the nearest folder at or above `start` that has `lessons/`."""
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not (root / LESSONS_DIR).is_dir():
            raise KnowledgeBaseNotFound(f"{root} is not a knowledge base: it has no '{LESSONS_DIR}/' folder")
        return KnowledgeBase(root)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / LESSONS_DIR).is_dir():
            return KnowledgeBase(folder)
    raise KnowledgeBaseNotFound(
        f"no knowledge base found at or above {here}: run inside a folder with '{LESSONS_DIR}/', "
        "or pass --root (or set LESSONS_ROOT)"
    )


def expand_paths(kb: KnowledgeBase, paths: list[Path]) -> list[Path]:
    """Lesson files named by `paths` (files or folders); the whole knowledge base when empty."""
    if not paths:
        return kb.lesson_files()
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            files.extend(sorted(_walk_markdown(path)))
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return files
