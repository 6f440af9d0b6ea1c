"""The knowledge base on disk: where its root is, which files are lessons, its taxonomy."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import FolderUnreadable, KnowledgeBaseNotFound, UsageError
from .taxonomy import Taxonomy, load_taxonomy

LESSONS_DIR = "lessons"
TAXONOMY_FILE = "taxonomy.yml"
INDEX_DIR = ".lessons"


@dataclass
class Scan:
    """The `*.md` files below a folder, and the folders that could not be read (never skipped silently).

    `files` are paths as strings (cheaper than Path objects for 10,000 files); `rels` the same files relative
    to the scanned folder, in posix form; `stats` their (size, modification time in ns) when asked for.
    """

    files: list[str] = field(default_factory=list)
    rels: list[str] = field(default_factory=list)
    stats: list[tuple[int, int]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (folder, reason)


def scan_markdown(folder: Path | str, with_stats: bool = False) -> Scan:
    """Every `*.md` file below `folder`, hidden files and folders left out, symbolic links listed but not followed."""
    scan = Scan()
    stack = [(str(folder), "")]
    while stack:
        current, prefix = stack.pop()
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as exc:
            scan.unreadable.append((current, exc.strerror or str(exc)))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append((entry.path, f"{prefix}{name}/"))
            elif name.endswith(".md"):
                if with_stats:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # removed since the folder was listed (an editor saving by rename): not a lesson any more
                    scan.stats.append((st.st_size, st.st_mtime_ns))
                scan.files.append(entry.path)
                scan.rels.append(prefix + name)
    return scan


class UnsafeFile(Exception):
    """A path that is not read: a symbolic link (or one leading outside the knowledge base), a FIFO, a device,
    or a file over the size limit. `rule` is the check rule it becomes."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def read_regular(path: Path | str, limit: int, inside: Path | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; raises UnsafeFile otherwise (OSError if unreadable).

    The one place that decides what lessons-kb reads from a knowledge base, for check, index and site alike. Without
    `inside`, a symbolic link is refused; with it, a link is followed only when it ends inside that folder. A FIFO
    or a device is refused without blocking (opened non-blocking, then checked on the open file, so it cannot be
    swapped between the check and the read), and no more than `limit` bytes are ever read."""
    target = Path(path)
    if inside is not None:
        target = target.resolve()
        if not target.is_relative_to(inside.resolve()):
            raise UnsafeFile("symlink", "a symbolic link to a file outside the knowledge base: it is not read or published")
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        if Path(target).is_symlink():
            raise UnsafeFile("symlink", "lesson files must be regular files, not symbolic links") from None
        raise exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile("not-regular", "not a regular file (a FIFO, device or socket): it is not read")
        if info.st_size > limit:
            raise UnsafeFile("file-too-large", f"file is {info.st_size // 1024} KiB, the limit is {limit // 1024} KiB")
        chunks, left = [], limit + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # grew since fstat
        raise UnsafeFile("file-too-large", f"file is over {limit // 1024} KiB, the limit")
    return data


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

    @property
    def taxonomy_file(self) -> Path:
        return self.lessons_dir / TAXONOMY_FILE

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return load_taxonomy(self.taxonomy_file)

    def lesson_files(self) -> list[Path]:
        """Every `*.md` file under `lessons/`, sorted; symbolic links are listed (check refuses them) but not followed.

        Raises FolderUnreadable rather than answer without the lessons of a folder it cannot read."""
        scan = scan_markdown(self.lessons_dir)
        if scan.unreadable:
            folder, reason = scan.unreadable[0]
            raise FolderUnreadable(f"{self.relpath(folder)}: cannot read this folder ({reason}); fix its permissions")
        return sorted(Path(p) for p in scan.files)

    def relpath(self, path: Path | str) -> str:
        """A path as users should see it: relative to the current folder when possible."""
        try:
            return os.path.relpath(path)
        except ValueError:
            return str(path)


def find_root(start: Path | None = None, explicit: Path | str | None = None) -> KnowledgeBase:
    """The knowledge base at `explicit`, or the nearest folder at or above `start` that has `lessons/`."""
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not (root / LESSONS_DIR).is_dir():
            raise KnowledgeBaseNotFound(f"{root} is not a knowledge base: it has no '{LESSONS_DIR}/' folder")
        return _inside(KnowledgeBase(root))
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / LESSONS_DIR).is_dir():
            return _inside(KnowledgeBase(folder))
    raise KnowledgeBaseNotFound(
        f"no knowledge base found at or above {here}: run inside a folder with '{LESSONS_DIR}/', or pass --root (or set LESSONS_ROOT)"
    )


def _inside(kb: KnowledgeBase) -> KnowledgeBase:
    """A `lessons/` that is a link out of the root would make every lesson a file of somewhere else."""
    real = kb.lessons_dir.resolve()
    if not real.is_relative_to(kb.root):
        raise KnowledgeBaseNotFound(
            f"{kb.lessons_dir} is a symbolic link to {real}, outside the knowledge base: make '{LESSONS_DIR}/' a real folder"
        )
    return kb


def expand_paths(kb: KnowledgeBase, paths: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Lesson files named by `paths` (files or folders; the whole knowledge base when empty), and unreadable folders."""
    if not paths:
        scan = scan_markdown(kb.lessons_dir)
        return sorted(Path(p) for p in scan.files), scan.unreadable
    files: list[Path] = []
    unreadable: list[tuple[str, str]] = []
    for named in paths:
        # spelled as the knowledge base's own scan spells it (absolute, folders resolved, a linked file's own name
        # kept), so a file named on the command line is not counted twice against the whole knowledge base
        path = Path(os.path.normpath(named.absolute()))
        path = path.parent.resolve() / path.name
        if path.is_dir() and not path.is_symlink():
            found = scan_markdown(path)
            files.extend(sorted(Path(p) for p in found.files))
            unreadable.extend(found.unreadable)
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            raise UsageError(f"{named}: no such file or folder")
    return files, unreadable
