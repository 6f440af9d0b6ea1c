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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..core.kb import KnowledgeBase, scan_markdown
from ..core.vocabulary import INDEX_FIELDS
from ..errors import IndexMissing, IndexProblem
from . import bm25, store

if TYPE_CHECKING:
    from ..core.lesson import Lesson
    from ..core.rules import Finding

Log = Callable[[str], None]
Progress = Callable[[int, int], None]


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
            "left_out": [f.to_dict() for f in self.left_out],
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _FileState:
    path: Path
    rel: str
    stat: list[int]
    digest: str = ""


def scan_stats(kb: KnowledgeBase) -> tuple[dict[str, tuple[str, list[int]]], list[tuple[str, str]]]:
    """Every lesson file: relative posix path -> (absolute path, [size, modification time in ns]); and unreadable folders."""
    found = scan_markdown(kb.lessons_dir, with_stats=True)
    prefix = kb.lessons_dir.name + "/"
    files = {prefix + rel: (path, list(stat)) for path, rel, stat in zip(found.files, found.rels, found.stats)}
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
    known = {f[0]: [f[1], f[2]] for f in data.files} | {p: rec["stat"] for p, rec in data.skipped.items()}
    return known.keys() != files.keys() or any(known[rel] != stat for rel, (_, stat) in files.items())


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
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
) -> IndexReport:
    """Bring the index up to date with the lesson files (all of it with `rebuild`)."""
    started = time.perf_counter()
    root = store.index_root(kb.index_dir)
    with store.writer_lock(kb.index_dir, wait=wait):
        old = None if rebuild else _load_previous(root, identity, log)
        report = _refresh_locked(kb, embedder, identity, old, root, progress, log)
    report.seconds = time.perf_counter() - started
    return report


def _load_previous(root: Path, identity: dict[str, Any], log: Log | None) -> store.IndexData | None:
    try:
        return store.load(root, expect_model=identity)
    except IndexMissing:
        return None
    except IndexProblem as exc:
        if log:
            log(f"The existing index cannot be reused ({exc}); building a new one.")
        return None


def _refresh_locked(
    kb: KnowledgeBase,
    embedder: Embedder,
    identity: dict[str, Any],
    old: store.IndexData | None,
    root: Path,
    progress: Progress | None,
    log: Log | None,
) -> IndexReport:
    report = IndexReport()
    files, unreadable = scan(kb)
    tax_stat = taxonomy_state(kb)
    taxonomy_same = old is not None and old.manifest.get("taxonomy_stat") == tax_stat
    old_rows = {f[0]: i for i, f in enumerate(old.files)} if old is not None else {}
    stems = Counter(Path(rel).stem for rel in files)
    keep: dict[str, int] = {}  # rel path -> old lesson row
    skipped: dict[str, dict[str, Any]] = {}
    to_check: list[_FileState] = []
    for rel, state in files.items():
        row = old_rows.get(rel) if taxonomy_same else None
        if row is not None and _still_valid(old.files[row], stems) and _same(old.files[row][1:4], state):  # type: ignore[union-attr]
            keep[rel] = row
            continue
        prev = old.skipped.get(rel) if (old is not None and taxonomy_same) else None
        if prev and stems[Path(rel).stem] == 1 and _same([*prev["stat"], prev["hash"]], state):
            skipped[rel] = dict(prev, stat=state.stat)
            continue
        state.digest = state.digest or _digest(state.path)
        to_check.append(state)
    new_lessons = _check_changed(kb, to_check, skipped, report, log)
    report.left_out = unreadable + report.left_out
    report.removed = sorted(Path(rel).stem for rel in set(old_rows) - set(files))
    for lesson in new_lessons:
        rel = lesson.path.relative_to(kb.root).as_posix()
        (report.changed if rel in old_rows else report.added).append(lesson.id)
    if (
        old is not None
        and taxonomy_same
        and not new_lessons
        and len(keep) == old.size
        and skipped == old.skipped
        and all(old.files[row][1:3] == files[rel].stat for rel, row in keep.items())
    ):
        report.up_to_date, report.lessons, report.passages = True, old.size, len(old.passage_lesson)
        return report
    data = _assemble(kb, embedder, identity, old, keep, files, new_lessons, skipped, tax_stat, report, progress, log)
    store.write(root, data)
    report.lessons, report.passages = data.size, len(data.passage_lesson)
    return report


def _same(record: list[Any], state: _FileState) -> bool:
    """Unchanged: same size and time ([size, mtime, sha256] recorded), or failing that the same content hash."""
    if record[0:2] == state.stat:
        return True
    state.digest = state.digest or _digest(state.path)
    return record[2] == state.digest


def _still_valid(file_entry: list[Any], stems: Counter[str]) -> bool:
    """An unchanged lesson stays valid unless its id became duplicated or a lesson it points to disappeared."""
    lesson_id = Path(file_entry[0]).stem
    return stems[lesson_id] == 1 and all(stems[ref] for ref in file_entry[4])


def _check_changed(
    kb: KnowledgeBase, to_check: list[_FileState], skipped: dict[str, dict[str, Any]], report: IndexReport, log: Log | None
) -> list[Lesson]:
    from ..core.check import check_knowledge_base

    if not to_check:
        return []
    if log and len(to_check) > 200:
        log(f"Checking {len(to_check)} lesson files")
    checked = check_knowledge_base(kb, [s.path for s in to_check])
    valid = {lesson.path for lesson in checked.lessons}
    for state in to_check:
        if state.path not in valid:
            skipped[state.rel] = {"stat": state.stat, "hash": state.digest}
    report.left_out = [f for f in checked.findings if f.level == "error"]
    return checked.lessons


def _facet_row(lesson_id: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": lesson_id,
        "sector": meta["sector"],
        "outcome": meta["outcome"],
        "company_size": meta["company_size"],
        "country": meta.get("country"),
        "language": meta["language"],
        "date": meta["date"],
        "status": meta["status"],
        "technologies": meta["technologies"],
    }


def _assemble(
    kb: KnowledgeBase,
    embedder: Embedder,
    identity: dict[str, Any],
    old: store.IndexData | None,
    keep: dict[str, int],
    files: dict[str, _FileState],
    new_lessons: list[Lesson],
    skipped: dict[str, dict[str, Any]],
    tax_stat: list[int],
    report: IndexReport,
    progress: Progress | None,
    log: Log | None,
) -> store.IndexData:
    from .passages import keyword_text, lesson_passages

    taxonomy = kb.taxonomy
    new_by_rel = {lesson.path.relative_to(kb.root).as_posix(): lesson for lesson in new_lessons}
    order = sorted(set(keep) | set(new_by_rel))
    sections = list(old.manifest["sections"]) if old is not None else []  # old section codes stay valid
    codes = {name: i for i, name in enumerate(sections)}
    old_bounds = np.searchsorted(old.passage_lesson, np.arange(old.size + 1)) if old is not None else np.zeros(1, dtype=np.int64)
    old_matrix = old.vector_matrix() if old is not None else None
    old_lesson_vecs = old.lesson_vectors.reconstruct_n(0, old.size) if old is not None and keep else None
    reuse = {int(h): i for i, h in enumerate(old.passage_hash)} if old is not None else {}
    vocab = dict(old.keyword.vocab) if old is not None else {}
    row_map = np.full(old.size if old is not None else 0, -1, dtype=np.int64)

    files_out, facets_rows, records_raw = [], [], []
    seg_lesson, seg_section, seg_hash, seg_vectors, seg_text, seg_textlen = [], [], [], [], [], []
    new_docs, lesson_vecs, pending_rows = [], [], []
    to_embed, pending = [], {}
    runs = _kept_runs(order, keep)
    for row_out, rel in enumerate(order):
        if rel in keep:
            row = keep[rel]
            row_map[row] = row_out
            entry = old.files[row]  # type: ignore[union-attr]
            files_out.append([entry[0], *files[rel].stat, entry[3], entry[4]])
            facets_rows.append({name: old.facets[name][row] for name in INDEX_FIELDS})  # type: ignore[union-attr]
            if row_out not in runs:
                continue
            # a run of consecutive kept lessons is copied as one slice of every array
            _, last_row = runs[row_out]
            lo, hi = int(old_bounds[row]), int(old_bounds[last_row + 1])
            seg_lesson.append(old.passage_lesson[lo:hi] - row + row_out)  # type: ignore[union-attr]
            seg_section.append(old.passage_section[lo:hi])  # type: ignore[union-attr]
            seg_hash.append(old.passage_hash[lo:hi])  # type: ignore[union-attr]
            seg_vectors.append(old_matrix[lo:hi])  # type: ignore[index]
            seg_text.append(bytes(old.passage_blob[old.passage_offsets[lo] : old.passage_offsets[hi]]))  # type: ignore[union-attr]
            seg_textlen.append(np.diff(old.passage_offsets[lo : hi + 1]))  # type: ignore[union-attr]
            records_raw.append(bytes(old.record_blob[old.record_offsets[row] : old.record_offsets[last_row + 1]]))  # type: ignore[union-attr]
            lesson_vecs.extend(old_lesson_vecs[row : last_row + 1])  # type: ignore[index]
            continue
        lesson, state = new_by_rel[rel], files[rel]
        meta = lesson.meta.model_dump(mode="json")
        refs = [r for r in (*lesson.meta.related, lesson.meta.superseded_by, lesson.meta.duplicate_of) if r]
        files_out.append([rel, *state.stat, state.digest, refs])
        facets_rows.append(_facet_row(lesson.id, meta))
        records_raw.append(json.dumps({"id": lesson.id, "path": rel, **meta}, ensure_ascii=False).encode("utf-8") + b"\n")
        passages = lesson_passages(lesson, taxonomy)
        hashes = np.array([_text_hash(p.embed_text) for p in passages], dtype=np.uint64)
        slots = []
        for passage, h in zip(passages, hashes.tolist()):
            if h in reuse:
                slots.append(("old", reuse[h]))
                report.reused += 1
            else:
                if h not in pending:
                    pending[h] = len(to_embed)
                    to_embed.append(passage.embed_text)
                slots.append(("new", pending[h]))
        for passage in passages:
            codes.setdefault(passage.section, len(codes))
        blobs = [p.text.encode("utf-8") for p in passages]
        seg_lesson.append(np.full(len(passages), row_out, dtype=np.int32))
        seg_section.append(np.array([codes[p.section] for p in passages], dtype=np.int16))
        seg_hash.append(hashes)
        seg_vectors.append(slots)
        seg_text.append(b"".join(blobs))
        seg_textlen.append(np.array([len(b) for b in blobs], dtype=np.int64))
        lesson_vecs.append(None)
        pending_rows.append(row_out)
        new_docs.append((row_out, bm25.doc_terms(keyword_text(lesson, taxonomy), vocab)))
    sections = list(codes)  # old names keep their codes; new names were appended
    if to_embed and log:
        log(f"Embedding {len(to_embed)} passage(s) of {len(new_lessons)} new or changed lesson(s)")
    fresh = embedder.encode(to_embed, progress=progress) if to_embed else np.zeros((0, embedder.dimension), dtype=np.float32)
    report.embedded = len(to_embed)
    return _pack(
        identity,
        tax_stat,
        sections,
        files_out,
        skipped,
        facets_rows,
        records_raw,
        seg_lesson,
        seg_section,
        seg_hash,
        seg_vectors,
        seg_text,
        seg_textlen,
        lesson_vecs,
        pending_rows,
        old_matrix,
        fresh,
        embedder.dimension,
        bm25.merge(old.keyword if old is not None else None, row_map, new_docs, vocab, len(order)),
    )


def _kept_runs(order: list[str], keep: dict[str, int]) -> dict[int, tuple[int, int]]:
    """Runs of kept lessons whose old rows are consecutive: first new row -> (last new row, last old row)."""
    runs: dict[int, tuple[int, int]] = {}
    start = None
    for row_out, rel in enumerate(order):
        row = keep.get(rel)
        if row is not None and start is not None and row == runs[start][1] + 1:
            runs[start] = (row_out, row)
        elif row is not None:
            start = row_out
            runs[start] = (row_out, row)
        else:
            start = None
    return runs


def _pack(
    identity,
    tax_stat,
    sections,
    files_out,
    skipped,
    facets_rows,
    records_raw,
    seg_lesson,
    seg_section,
    seg_hash,
    seg_vectors,
    seg_text,
    seg_textlen,
    lesson_vecs,
    pending_rows,
    old_matrix,
    fresh,
    dim,
    kw,
) -> store.IndexData:
    import faiss

    blocks = []
    for seg in seg_vectors:
        if isinstance(seg, np.ndarray):
            blocks.append(seg)
        else:
            blocks.append(
                np.stack([old_matrix[j] if kind == "old" else fresh[j] for kind, j in seg]) if seg else np.zeros((0, dim), dtype=np.float32)
            )
    vectors = np.ascontiguousarray(np.concatenate(blocks) if blocks else np.zeros((0, dim), dtype=np.float32), dtype=np.float32)
    passage_lesson = np.concatenate(seg_lesson) if seg_lesson else np.zeros(0, dtype=np.int32)
    bounds = np.searchsorted(passage_lesson, np.arange(len(files_out) + 1))
    for row in pending_rows:  # a new lesson's vector: the unit-length mean of its passages
        mean = vectors[bounds[row] : bounds[row + 1]].mean(axis=0)
        lesson_vecs[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    per_lesson = faiss.IndexFlatIP(dim)
    if lesson_vecs:
        per_lesson.add(np.ascontiguousarray(np.stack(lesson_vecs), dtype=np.float32))
    lengths = np.concatenate(seg_textlen) if seg_textlen else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    record_blob = b"".join(records_raw)
    ends = np.flatnonzero(np.frombuffer(record_blob, dtype=np.uint8) == 10) + 1  # one JSON line per lesson
    record_offsets = np.zeros(len(ends) + 1, dtype=np.int64)
    record_offsets[1:] = ends
    facets = {name: [row[name] for row in facets_rows] for name in INDEX_FIELDS}
    manifest = {
        "model": identity,
        "taxonomy_stat": tax_stat,
        "sections": sections,
        "counts": {"lessons": len(files_out), "passages": len(vectors), "skipped": len(skipped)},
    }
    data = store.IndexData(
        manifest,
        files_out,
        skipped,
        facets,
        passage_lesson,
        np.concatenate(seg_section).astype(np.int16) if seg_section else np.zeros(0, dtype=np.int16),
        np.concatenate(seg_hash).astype(np.uint64) if seg_hash else np.zeros(0, dtype=np.uint64),
        offsets,
        record_offsets,
        vectors,
        kw,
        passage_blob=b"".join(seg_text),
        record_blob=record_blob,
    )
    data._lesson_vectors = per_lesson
    return data
