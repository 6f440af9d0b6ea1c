"""Building and refreshing the index: only new or changed lessons are embedded again.

Unchanged lessons are recognised by file size and modification time, then by content hash; their
passages, vectors, records and keyword counts are carried over as array slices. A passage whose text
was already embedded (in the old index or earlier in the same run) reuses that vector.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..core.kb import KnowledgeBase, UnsafeFile, read_regular, scan_markdown
from ..core.vocabulary import INDEX_FIELDS, MAX_LESSON_BYTES
from . import bm25, lock, repair, store
from .store import FileRow, SkippedFile

if TYPE_CHECKING:
    from ..core.lesson import Lesson
    from ..core.rules import Finding
    from ..core.taxonomy import Taxonomy
    from .passages import Passage

Log = Callable[[str], None]
Progress = Callable[[int, int], None]
Stat = tuple[int, int]  # size, modification time in ns


class Embedder(Protocol):
    """Anything that turns texts into unit-length float32 vectors."""

    dimension: int

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None) -> np.ndarray: ...


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


def _text_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


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
    store.write(store.index_root(kb.index_dir), data)
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
            builder.add_lesson(plan.new[run[0]], plan.files[run[0]])
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


def _facet_row(lesson_id: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The fields of `vocabulary.INDEX_FIELDS` for one lesson, as the index keeps them for filters and listings."""
    return {name: lesson_id if name == "id" else meta.get(name) for name in INDEX_FIELDS}


class _Blob:
    """Byte strings laid end to end with their offsets, the layout of passages.bin and lessons.jsonl."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._lengths: list[np.ndarray] = []

    def add(self, items: list[bytes]) -> None:
        self._chunks.append(b"".join(items))
        self._lengths.append(np.array([len(item) for item in items], dtype=np.int64))

    def copy(self, blob: store.Blob, offsets: np.ndarray, lo: int, hi: int) -> None:
        """Items lo to hi - 1 of an old blob, as one slice."""
        self._chunks.append(bytes(blob[offsets[lo] : offsets[hi]]))
        self._lengths.append(np.diff(offsets[lo : hi + 1]))

    def join(self) -> tuple[bytes, np.ndarray]:
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int64)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return b"".join(self._chunks), offsets


class _VectorSources:
    """Where each passage vector of the new generation comes from: a slice of the old matrix, an old passage with the
    same text, or a new embedding (each distinct text embedded once)."""

    def __init__(self, old_hashes: np.ndarray, bad: np.ndarray | None) -> None:
        usable = range(len(old_hashes)) if bad is None else np.flatnonzero(~bad).tolist()
        self._old_by_hash = {int(old_hashes[i]): i for i in usable}
        self._new_by_hash: dict[int, int] = {}
        self.texts: list[str] = []  # to embed
        self._slices: list[tuple[int, int, int]] = []  # (first new passage, old lo, old hi)
        self._reused_at: list[int] = []
        self._reused_from: list[int] = []
        self._fresh_at: list[int] = []
        self._fresh_from: list[int] = []

    def copy(self, at: int, lo: int, hi: int) -> None:
        self._slices.append((at, lo, hi))

    def place(self, at: int, text_hash: int, text: str) -> bool:
        """Find a vector for new passage `at`; True if an old passage with the same text lends its own."""
        old = self._old_by_hash.get(text_hash)
        if old is not None:
            self._reused_at.append(at)
            self._reused_from.append(old)
            return True
        if text_hash not in self._new_by_hash:
            self._new_by_hash[text_hash] = len(self.texts)
            self.texts.append(text)
        self._fresh_at.append(at)
        self._fresh_from.append(self._new_by_hash[text_hash])
        return False

    def gather(self, old: np.ndarray, fresh: np.ndarray, count: int, dimension: int) -> np.ndarray:
        """The `count` passage vectors in their new order, `fresh` holding the embeddings of `texts`."""
        out = np.empty((count, dimension), dtype=np.float32)
        for at, lo, hi in self._slices:
            out[at : at + hi - lo] = old[lo:hi]
        out[np.asarray(self._reused_at, dtype=np.int64)] = old[np.asarray(self._reused_from, dtype=np.int64)]
        out[np.asarray(self._fresh_at, dtype=np.int64)] = fresh[np.asarray(self._fresh_from, dtype=np.int64)]
        return out


class GenerationBuilder:
    """A new index generation, filled lesson by lesson in row order from runs of kept lessons and new lessons."""

    def __init__(self, old: store.IndexData, taxonomy: Taxonomy, dimension: int) -> None:
        self._old = old
        self._taxonomy = taxonomy
        self._dimension = dimension
        self._old_bounds = np.searchsorted(old.passage_lesson, np.arange(old.size + 1))  # old row -> its first passage
        self._row_map = np.full(old.size, -1, dtype=np.int64)  # old row -> new row, or -1 if dropped
        self._codes = {name: i for i, name in enumerate(old.manifest["sections"])}  # old codes stay valid in kept passages
        self._vocab = dict(old.keyword.vocab)
        self._sources = _VectorSources(old.passage_hash, old.bad_vectors)
        self._fresh = np.zeros((0, dimension), dtype=np.float32)
        self.files: list[FileRow] = []
        self._facets: list[dict[str, Any]] = []
        self._records = _Blob()
        self._texts = _Blob()
        self._passage_lesson: list[np.ndarray] = []
        self._passage_section: list[np.ndarray] = []
        self._passage_hash: list[np.ndarray] = []
        self._passages = 0
        self._kept: list[tuple[int, int, int]] = []  # (first new row, first old row, end old row)
        self._added: list[tuple[int, int, int]] = []  # (new row, first passage, end passage)
        self._new_docs: list[tuple[int, tuple[np.ndarray, np.ndarray]]] = []
        self.reused = 0

    def keep_run(self, first: int, stats: Sequence[Stat]) -> None:
        """Carry over the unchanged old rows first, first + 1, ... (one per current file stat), slicing each array once."""
        old, row, end = self._old, len(self.files), first + len(stats)
        lo, hi = int(self._old_bounds[first]), int(self._old_bounds[end])
        for old_row, stat in zip(range(first, end), stats):
            self.files.append(old.files[old_row].with_stat(stat))
            self._facets.append({name: old.facets[name][old_row] for name in INDEX_FIELDS})
        self._row_map[first:end] = np.arange(row, row + len(stats))
        self._passage_lesson.append(old.passage_lesson[lo:hi] - first + row)
        self._passage_section.append(old.passage_section[lo:hi])
        self._passage_hash.append(old.passage_hash[lo:hi])
        self._texts.copy(old.passage_blob, old.passage_offsets, lo, hi)
        self._records.copy(old.record_blob, old.record_offsets, first, end)
        self._sources.copy(self._passages, lo, hi)
        self._kept.append((row, first, end))
        self._passages += hi - lo

    def add_lesson(self, lesson: Lesson, file: _FileState) -> None:
        """Append a new or changed lesson (its vectors come later, from `embed`)."""
        from .passages import keyword_text, lesson_passages

        row, meta = len(self.files), lesson.meta.model_dump(mode="json")
        refs = tuple(ref for ref in (*lesson.meta.related, lesson.meta.superseded_by, lesson.meta.duplicate_of) if ref)
        self.files.append(FileRow(file.rel, *file.stat, file.digest, refs))
        self._facets.append(_facet_row(lesson.id, meta))
        self._records.add([json.dumps({"id": lesson.id, "path": file.rel, **meta}, ensure_ascii=False).encode("utf-8") + b"\n"])
        self._add_passages(row, lesson_passages(lesson, self._taxonomy))
        self._new_docs.append((row, bm25.doc_terms(keyword_text(lesson, self._taxonomy), self._vocab)))

    def _add_passages(self, row: int, passages: list[Passage]) -> None:
        first = self._passages
        hashes = np.array([_text_hash(p.embed_text) for p in passages], dtype=np.uint64)
        for at, (passage, text_hash) in enumerate(zip(passages, hashes.tolist()), start=first):
            if self._sources.place(at, text_hash, passage.embed_text):
                self.reused += 1
        self._passage_lesson.append(np.full(len(passages), row, dtype=np.int32))
        self._passage_section.append(np.array([self._codes.setdefault(p.section, len(self._codes)) for p in passages], dtype=np.int16))
        self._passage_hash.append(hashes)
        self._texts.add([p.text.encode("utf-8") for p in passages])
        self._added.append((row, first, first + len(passages)))
        self._passages += len(passages)

    def embed(self, embedder: Embedder, progress: Progress | None, log: Log | None) -> int:
        """Embed the passage texts that have no vector yet; returns how many."""
        texts = self._sources.texts
        if texts:
            if log:
                log(f"Embedding {len(texts)} passage(s) of {len(self._added)} new or changed lesson(s)")
            self._fresh = embedder.encode(texts, progress=progress)
        return len(texts)

    def finish(self, identity: dict[str, Any], taxonomy_stat: list[int], skipped: dict[str, SkippedFile]) -> store.IndexData:
        """The complete generation, for store.write."""
        vectors = self._sources.gather(self._old.vector_matrix(), self._fresh, self._passages, self._dimension)
        passage_blob, passage_offsets = self._texts.join()
        record_blob, record_offsets = self._records.join()
        passage_lesson = _concatenate(self._passage_lesson, np.int32)
        manifest = {
            "model": identity,
            "taxonomy_stat": taxonomy_stat,
            "sections": list(self._codes),
            "counts": {"lessons": len(self.files), "passages": len(vectors), "skipped": len(skipped)},
        }
        return store.IndexData(
            manifest=manifest,
            files=self.files,
            skipped=skipped,
            facets={name: [row[name] for row in self._facets] for name in INDEX_FIELDS},
            passage_lesson=passage_lesson,
            passage_section=_concatenate(self._passage_section, np.int16),
            passage_hash=_concatenate(self._passage_hash, np.uint64),
            passage_offsets=passage_offsets,
            record_offsets=record_offsets,
            matrix=vectors,
            keyword=bm25.merge(self._old.keyword, self._row_map, self._new_docs, self._vocab, len(self.files)),
            passage_blob=passage_blob,
            record_blob=record_blob,
            lesson_index=_flat_index(self._lesson_matrix(vectors, passage_lesson), self._dimension),
        )

    def _lesson_matrix(self, vectors: np.ndarray, passage_lesson: np.ndarray) -> np.ndarray:
        """One vector per lesson: copied for kept lessons, the unit-length mean of its passages for a new one (and for
        every lesson when the old lesson vectors were damaged)."""
        out = np.empty((len(self.files), self._dimension), dtype=np.float32)
        to_mean = [row for row, _, _ in self._added]
        if self._kept and self._old.lesson_vectors_bad:
            to_mean += [row + i for row, first, end in self._kept for i in range(end - first)]
        elif self._kept:
            old = self._old.lesson_vectors.reconstruct_n(0, self._old.size)
            for row, first, end in self._kept:
                out[row : row + end - first] = old[first:end]
        bounds = np.searchsorted(passage_lesson, np.arange(len(self.files) + 1))
        for row in to_mean:
            mean = vectors[bounds[row] : bounds[row + 1]].mean(axis=0)
            out[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return out


def _concatenate(parts: list[np.ndarray], dtype: type[np.generic]) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _flat_index(matrix: np.ndarray, dimension: int) -> Any:
    """A faiss.IndexFlatIP holding the rows of `matrix`."""
    import faiss

    index = faiss.IndexFlatIP(dimension)
    if len(matrix):
        index.add(matrix)
    return index
