"""Building and refreshing the index: only new or changed lessons are embedded again.

Unchanged lessons are recognised by file size and modification time, then by content hash; their
passages, vectors, records and keyword counts are carried over as array slices. A passage whose text
was already embedded (in the old index or earlier in the same run) reuses that vector.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.kb import KnowledgeBase, UnsafeFile, read_regular, scan_markdown
from ..core.vocabulary import MAX_LESSON_BYTES
from . import generation, lock, repair, store
from .generation import Embedder, GenerationBuilder, Log, Progress, Stat
from .store import FileRow, SkippedFile

if TYPE_CHECKING:
    from ..core.lesson import Lesson
    from ..core.rules import Finding


@dataclass
class IndexReport:
    """What a refresh did."""

    lessons: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    left_out: list[Finding] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # damage found in the previous index and how it was repaired
    up_to_date: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON report of `lessons index --json`."""
        return {
            "lessons": self.lessons,
            "passages": self.passages,
            "embedded": self.embedded,
            "reused": self.reused,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "up_to_date": self.up_to_date,
            "repaired": self.repaired,
            "left_out": [f.to_dict() for f in self.left_out],
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _FileState:
    """A lesson file as found on disk now."""

    path: Path
    rel: str
    stat: Stat
    digest: str = ""

    def sha256(self) -> str:
        """The content hash, read on first need: most files are settled by size and time alone."""
        if not self.digest:  # "" also when unreadable: the next call tries again
            self.digest = _digest(self.path)
        return self.digest


def scan_stats(kb: KnowledgeBase) -> tuple[dict[str, tuple[str, Stat]], list[tuple[str, str]]]:
    """Every lesson file: relative posix path -> (absolute path, (size, modification time in ns)); and unreadable folders."""
    found = scan_markdown(kb.lessons_dir, with_stats=True)
    prefix = kb.lessons_dir.name + "/"
    files = {prefix + rel: (path, stat) for path, rel, stat in zip(found.files, found.rels, found.stats)}
    return files, found.unreadable


def scan(kb: KnowledgeBase) -> tuple[dict[str, _FileState], list[Finding]]:
    """Every lesson file with its size and modification time, by path relative to the root (posix); unreadable folders as findings."""
    from ..core.rules import Collector

    files, unreadable = scan_stats(kb)
    problems = []
    for folder, reason in unreadable:
        out = Collector(kb.relpath(folder))
        out.add("unreadable-folder", f"cannot read this folder ({reason}): the lessons in it are left out of the index")
        problems.extend(out.findings)
    return {rel: _FileState(Path(path), rel, stat) for rel, (path, stat) in files.items()}, problems


def taxonomy_state(kb: KnowledgeBase) -> list[int]:
    """The taxonomy file's [size, modification time in ns] (a list: the manifest stores it as JSON)."""
    try:
        st = kb.taxonomy_file.stat()
        return [st.st_size, st.st_mtime_ns]
    except OSError:
        return [0, 0]


def is_stale(kb: KnowledgeBase, data: store.IndexData) -> bool:
    """True if a lesson file was added, removed or touched, or the taxonomy changed, since the index was built."""
    if data.manifest.get("taxonomy_stat") != taxonomy_state(kb):
        return True
    files = scan_stats(kb)[0]
    known = {row.path: row.stat for row in data.files} | {path: rec.stat for path, rec in data.skipped.items()}
    return known.keys() != files.keys() or any(known[rel] != stat for rel, (_, stat) in files.items())


def _digest(path: Path) -> str:
    try:  # the same refusals as the checker's: a FIFO or a link to /dev/zero is never read
        return hashlib.sha256(read_regular(path, MAX_LESSON_BYTES)).hexdigest()
    except (OSError, UnsafeFile):
        return ""


def refresh(
    kb: KnowledgeBase,
    embedder: Embedder,
    identity: dict[str, Any],
    rebuild: bool = False,
    progress: Progress | None = None,
    log: Log | None = None,
    wait: float = 10.0,
    announce: str = "",
    verify_all: bool = True,
) -> IndexReport:
    """Bring the index up to date with the lesson files (all of it with `rebuild`), verifying the previous index
    (hashing every file with `verify_all`, else only those whose fingerprint moved) and repairing what is
    damaged. `announce` is logged once the writer lock is held."""
    started = time.perf_counter()
    with lock.writer_lock(kb.index_dir, wait=wait):
        if announce and log:
            log(announce)
        old = None if rebuild else repair.open_previous(store.index_root(kb.index_dir), identity, log, verify_all)
        report = _refresh_locked(kb, embedder, identity, old, progress, log)
        report.repaired = old.repairs if old is not None else []
    report.seconds = time.perf_counter() - started
    return report


def _refresh_locked(
    kb: KnowledgeBase, embedder: Embedder, identity: dict[str, Any], old: store.IndexData | None, progress: Progress | None, log: Log | None
) -> IndexReport:
    report = IndexReport()
    plan = _plan(kb, old, report, log)
    _report_changes(report, old, plan)
    if old is not None and plan.matches(old):
        report.up_to_date, report.lessons, report.passages = True, old.size, len(old.passage_lesson)
        return report
    builder = _lay_out(kb, old, plan, embedder.dimension)
    report.reused = builder.reused
    report.embedded = builder.embed(embedder, progress, log)
    data = builder.finish(identity, plan.taxonomy_stat, plan.skipped)
    generation.write(store.index_root(kb.index_dir), data)
    report.lessons, report.passages = data.size, len(data.passage_lesson)
    return report


@dataclass
class _Plan:
    """What a refresh found on disk, measured against the previous index."""

    files: dict[str, _FileState]
    taxonomy_stat: list[int]
    taxonomy_same: bool
    keep: dict[str, int] = field(default_factory=dict)  # path -> row in the previous index
    new: dict[str, Lesson] = field(default_factory=dict)  # new or changed lessons that passed the checks, by path
    skipped: dict[str, SkippedFile] = field(default_factory=dict)
    repairing: set[str] = field(default_factory=set)  # unchanged lessons embedded again because their vectors were damaged

    def order(self) -> list[str]:
        """The paths of the new generation's lessons, in row order."""
        return sorted(set(self.keep) | set(self.new))

    def matches(self, old: store.IndexData) -> bool:
        """True if `old` already records exactly these files, times included: nothing to write."""
        return (
            self.taxonomy_same
            and not self.new
            and len(self.keep) == old.size
            and self.skipped == old.skipped
            and not old.repairs
            and all(old.files[row].stat == self.files[rel].stat for rel, row in self.keep.items())
        )


def _plan(kb: KnowledgeBase, old: store.IndexData | None, report: IndexReport, log: Log | None) -> _Plan:
    """Sort every lesson file into kept, still left out, or to check again (then new or left out)."""
    files, unreadable = scan(kb)
    tax_stat = taxonomy_state(kb)
    taxonomy_same = old is not None and old.manifest.get("taxonomy_stat") == tax_stat
    plan = _Plan(files, tax_stat, taxonomy_same)
    # names and passages come from the taxonomy too: after it changed, every lesson is read again
    known_files = old.files if old is not None and taxonomy_same else []
    known_skipped = old.skipped if old is not None and taxonomy_same else {}
    rows = {row.path: i for i, row in enumerate(known_files)}
    if old is not None and old.bad_vectors is not None and known_files:
        # lessons with a damaged passage vector are read and embedded again, as if changed
        damaged_rows = set(np.unique(old.passage_lesson[old.bad_vectors]).tolist())
        plan.repairing = {path for path, i in rows.items() if i in damaged_rows}
        rows = {path: i for path, i in rows.items() if i not in damaged_rows}
    stems = Counter(Path(rel).stem for rel in files)
    to_check: list[_FileState] = []
    for rel, state in files.items():
        row = rows.get(rel)
        if row is not None and _still_valid(known_files[row], stems) and _unchanged(known_files[row], state):
            plan.keep[rel] = row
            continue
        left_out = known_skipped.get(rel)
        if left_out is not None and stems[Path(rel).stem] == 1 and _unchanged(left_out, state):
            plan.skipped[rel] = left_out.with_stat(state.stat)
            continue
        state.sha256()
        to_check.append(state)
    _check_changed(kb, to_check, plan, report, log)
    report.left_out = unreadable + report.left_out
    return plan


def _unchanged(known: FileRow | SkippedFile, state: _FileState) -> bool:
    """Same size and time, or failing that the same content hash."""
    return known.stat == state.stat or known.sha256 == state.sha256()


def _still_valid(row: FileRow, stems: Counter[str]) -> bool:
    """An unchanged lesson stays valid unless its id became duplicated or a lesson it points to disappeared."""
    lesson_id = Path(row.path).stem
    return stems[lesson_id] == 1 and all(stems[ref] for ref in row.refs)


def _check_changed(kb: KnowledgeBase, to_check: list[_FileState], plan: _Plan, report: IndexReport, log: Log | None) -> None:
    """Check the new and changed files as `lessons check` would: valid ones become new lessons, the others are left out."""
    from ..core.check import check_knowledge_base

    if not to_check:
        return
    if log and len(to_check) > 200:
        log(f"Checking {len(to_check)} lesson files")
    checked = check_knowledge_base(kb, [s.path for s in to_check])
    valid = {lesson.path for lesson in checked.lessons}
    for state in to_check:
        if state.path not in valid:
            plan.skipped[state.rel] = SkippedFile(*state.stat, state.digest)
    # unreadable folders were reported by the index's own scan already
    report.left_out = [f for f in checked.findings if f.level == "error" and f.rule != "unreadable-folder"]
    plan.new = {lesson.path.relative_to(kb.root).as_posix(): lesson for lesson in checked.lessons}


def _report_changes(report: IndexReport, old: store.IndexData | None, plan: _Plan) -> None:
    """Name the lessons added, changed and removed since `old`."""
    if old is not None and old.repairs and not old.files:
        return  # a repair that reads every lesson again from what it kept of a damaged index: nothing to compare with
    old_paths = {row.path for row in old.files} if old is not None else set()
    report.removed = sorted(Path(rel).stem for rel in old_paths - set(plan.files))
    for rel, lesson in plan.new.items():
        if rel not in plan.repairing:
            (report.changed if rel in old_paths else report.added).append(lesson.id)


def _lay_out(kb: KnowledgeBase, old: store.IndexData | None, plan: _Plan, dimension: int) -> GenerationBuilder:
    """Every lesson of the new generation in row order, each run of kept lessons taken from `old` in one piece."""
    builder = GenerationBuilder(old if old is not None else store.IndexData.empty(dimension), kb.taxonomy, dimension)
    for run in _runs(plan.order(), plan.keep):
        first = plan.keep.get(run[0])
        if first is None:
            state = plan.files[run[0]]
            builder.add_lesson(plan.new[run[0]], FileRow(state.rel, *state.stat, state.digest, ()))
        else:
            builder.keep_run(first, [plan.files[rel].stat for rel in run])
    return builder


def _runs(order: list[str], keep: dict[str, int]) -> Iterator[list[str]]:
    """The paths in order, grouped: kept lessons whose old rows follow each other form one run, a new lesson is a run of its own."""
    run: list[str] = []
    for rel in order:
        row = keep.get(rel)
        if run and not (row is not None and keep.get(run[-1]) == row - 1):
            yield run
            run = []
        run.append(rel)
    if run:
        yield run
