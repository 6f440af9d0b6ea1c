"""Building and refreshing the index: only new or changed lessons are embedded again.

Unchanged lessons are recognised by file size and modification time, then by content hash; their
passages, vectors and keyword counts are carried over. Passages whose text was already embedded (in
the old index or earlier in the same run) reuse that vector.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from . import keyword, store
from .checks import Finding, Lesson, check_knowledge_base
from .kb import TAXONOMY_FILE, KnowledgeBase
from .passages import keyword_text, lesson_passages

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


@dataclass
class _FileState:
    path: Path
    rel: str
    stat: list[int]
    digest: str = ""


def scan(kb: KnowledgeBase) -> dict[str, _FileState]:
    """Every lesson file with its size and modification time, by path relative to the root."""
    out = {}
    for path in kb.lesson_files():
        try:
            st = path.lstat()
        except OSError:
            continue
        rel = path.relative_to(kb.root).as_posix()
        out[rel] = _FileState(path, rel, [st.st_size, st.st_mtime_ns])
    return out


def taxonomy_state(kb: KnowledgeBase) -> list[int]:
    try:
        st = (kb.lessons_dir / TAXONOMY_FILE).stat()
        return [st.st_size, st.st_mtime_ns]
    except OSError:
        return [0, 0]


def is_stale(kb: KnowledgeBase, data: store.IndexData) -> bool:
    """True if a lesson file was added, removed or touched, or the taxonomy changed, since the index was built."""
    if data.manifest.get("taxonomy_stat") != taxonomy_state(kb):
        return True
    files = scan(kb)
    known = {rec["path"]: rec["stat"] for rec in data.lessons} | {p: rec["stat"] for p, rec in data.skipped.items()}
    return known.keys() != files.keys() or any(known[rel] != f.stat for rel, f in files.items())


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _text_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def refresh(kb: KnowledgeBase, embedder: Embedder, identity: dict[str, Any], rebuild: bool = False,
            progress: Progress | None = None, log: Log | None = None, wait: float = 10.0) -> IndexReport:
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
    except store.IndexMissing:
        return None
    except store.IndexProblem as exc:
        if log:
            log(f"The existing index cannot be reused ({exc}); building a new one.")
        return None


def _refresh_locked(kb: KnowledgeBase, embedder: Embedder, identity: dict[str, Any], old: store.IndexData | None,
                    root: Path, progress: Progress | None, log: Log | None) -> IndexReport:
    report = IndexReport()
    files = scan(kb)
    tax_stat = taxonomy_state(kb)
    taxonomy_same = old is not None and old.manifest.get("taxonomy_stat") == tax_stat
    old_rows = {rec["path"]: i for i, rec in enumerate(old.lessons)} if old else {}
    stems = Counter(Path(rel).stem for rel in files)
    present_ids = set(stems)
    keep: dict[str, int] = {}  # rel path -> old lesson row
    skipped: dict[str, dict[str, Any]] = {}
    to_check: list[_FileState] = []
    for rel, state in files.items():
        row = old_rows.get(rel) if taxonomy_same else None
        if row is not None and _still_valid(old.lessons[row], stems, present_ids) and _same(old.lessons[row], state):  # type: ignore[union-attr]
            keep[rel] = row
            continue
        prev_skip = old.skipped.get(rel) if (old is not None and taxonomy_same) else None
        if prev_skip and stems[Path(rel).stem] == 1 and _same(prev_skip, state):
            skipped[rel] = dict(prev_skip, stat=state.stat)
            continue
        state.digest = state.digest or _digest(state.path)
        to_check.append(state)
    new_lessons = _check_changed(kb, to_check, skipped, report, log)
    for rel in sorted(set(old_rows) - set(files)):
        report.removed.append(Path(rel).stem)
    for lesson in new_lessons:
        rel = lesson.path.relative_to(kb.root).as_posix()
        (report.changed if rel in old_rows else report.added).append(lesson.id)
    stats_same = old is not None and all(old.lessons[row]["stat"] == files[rel].stat for rel, row in keep.items())
    if old is not None and taxonomy_same and not new_lessons and not report.removed and stats_same \
            and len(keep) == len(old.lessons) and skipped.keys() == old.skipped.keys():
        report.up_to_date, report.lessons, report.passages = True, len(old.lessons), len(old.passage_lesson)
        return report
    data = _assemble(kb, embedder, identity, old, keep, files, new_lessons, skipped, tax_stat, report, progress, log)
    store.write(root, data)
    report.lessons, report.passages = len(data.lessons), len(data.passage_lesson)
    return report


def _same(record: dict[str, Any], state: _FileState) -> bool:
    """Unchanged: same size and time, or failing that the same content hash."""
    if record["stat"] == state.stat:
        return True
    state.digest = state.digest or _digest(state.path)
    return record["hash"] == state.digest


def _still_valid(rec: dict[str, Any], stems: Counter[str], present: set[str]) -> bool:
    """An unchanged lesson stays valid unless its id became duplicated or a lesson it points to disappeared."""
    refs = [*rec.get("related", []), rec.get("superseded_by"), rec.get("duplicate_of")]
    return stems[rec["id"]] == 1 and all(ref in present for ref in refs if ref)


def _check_changed(kb: KnowledgeBase, to_check: list[_FileState], skipped: dict[str, dict[str, Any]],
                   report: IndexReport, log: Log | None) -> list[Lesson]:
    if not to_check:
        return []
    if log and len(to_check) > 200:
        log(f"Checking {len(to_check)} lesson files")
    checked = check_knowledge_base(kb, [s.path for s in to_check])
    valid = {lesson.path for lesson in checked.lessons}
    errors = [f for f in checked.findings if f.level == "error"]
    for state in to_check:
        if state.path not in valid:
            skipped[state.rel] = {"stat": state.stat, "hash": state.digest}
    report.left_out = errors
    return checked.lessons


def _assemble(kb: KnowledgeBase, embedder: Embedder, identity: dict[str, Any], old: store.IndexData | None,
              keep: dict[str, int], files: dict[str, _FileState], new_lessons: list[Lesson], skipped: dict[str, dict[str, Any]],
              tax_stat: list[int], report: IndexReport, progress: Progress | None, log: Log | None) -> store.IndexData:
    import faiss

    taxonomy = kb.taxonomy
    old_vectors = _all_vectors(old) if old is not None and keep else None
    old_bounds = np.searchsorted(old.passage_lesson, np.arange(len(old.lessons) + 1)) if old is not None else None
    old_terms, old_counts = keyword.per_document(old.keyword) if old is not None and keep else ([], [])
    reuse = {int(h): i for i, h in enumerate(old.passage_hash)} if old is not None else {}
    new_by_rel = {lesson.path.relative_to(kb.root).as_posix(): lesson for lesson in new_lessons}
    vocab = dict(old.keyword.vocab) if old is not None else {}

    records, sections, section_codes = [], [], {}
    p_lesson, p_section, p_hash, p_text = [], [], [], []
    vec_rows: list[tuple[str, int]] = []  # ("old", row) or ("new", index into to_embed)
    to_embed: list[str] = []
    pending: dict[int, int] = {}
    terms, counts = [], []
    for rel in sorted(set(keep) | set(new_by_rel)):
        row_out = len(records)
        if rel in keep:
            row = keep[rel]
            rec = dict(old.lessons[row], stat=files[rel].stat)  # type: ignore[union-attr]
            for p in range(old_bounds[row], old_bounds[row + 1]):  # type: ignore[index]
                _add_passage(p_lesson, p_section, p_hash, p_text, sections, section_codes, row_out,
                             old.section(p), int(old.passage_hash[p]), old.passage(p))  # type: ignore[union-attr]
                vec_rows.append(("old", p))
            terms.append(old_terms[row])
            counts.append(old_counts[row])
        else:
            lesson = new_by_rel[rel]
            state = files[rel]
            rec = {"id": lesson.id, "path": rel, "hash": state.digest, "stat": state.stat,
                   **lesson.meta.model_dump(mode="json")}
            for passage in lesson_passages(lesson, taxonomy):
                h = _text_hash(passage.embed_text)
                _add_passage(p_lesson, p_section, p_hash, p_text, sections, section_codes, row_out, passage.section, h, passage.text)
                if h in reuse and old_vectors is not None:
                    vec_rows.append(("old", reuse[h]))
                    report.reused += 1
                else:
                    if h not in pending:
                        pending[h] = len(to_embed)
                        to_embed.append(passage.embed_text)
                    vec_rows.append(("new", pending[h]))
            t, c = keyword.doc_terms(keyword_text(lesson, taxonomy), vocab)
            terms.append(t)
            counts.append(c)
        records.append(rec)
    if to_embed and log:
        log(f"Embedding {len(to_embed)} passage(s) of {len(new_lessons)} new or changed lesson(s)")
    fresh = embedder.encode(to_embed, progress=progress) if to_embed else np.zeros((0, embedder.dimension), dtype=np.float32)
    report.embedded = len(to_embed)
    dim = embedder.dimension
    vectors = np.zeros((len(vec_rows), dim), dtype=np.float32)
    for i, (kind, j) in enumerate(vec_rows):
        vectors[i] = old_vectors[j] if kind == "old" else fresh[j]  # type: ignore[index]
    passage_lesson = np.asarray(p_lesson, dtype=np.int32)
    lesson_vecs = _centroids(vectors, passage_lesson, len(records), dim)
    flat, per_lesson = faiss.IndexFlatIP(dim), faiss.IndexFlatIP(dim)
    flat.add(vectors)
    per_lesson.add(lesson_vecs)
    blobs = [t.encode("utf-8") for t in p_text]
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blobs], out=offsets[1:])
    manifest = {"model": identity, "taxonomy_stat": tax_stat, "sections": sections,
                "counts": {"lessons": len(records), "passages": len(vec_rows), "skipped": len(skipped)}}
    return store.IndexData(manifest, records, skipped, passage_lesson, np.asarray(p_section, dtype=np.int16),
                           np.asarray(p_hash, dtype=np.uint64), b"".join(blobs), offsets, flat, per_lesson,
                           keyword.assemble(vocab, terms, counts))


def _add_passage(p_lesson, p_section, p_hash, p_text, sections, codes, row, section, h, text) -> None:
    if section not in codes:
        codes[section] = len(sections)
        sections.append(section)
    p_lesson.append(row)
    p_section.append(codes[section])
    p_hash.append(h)
    p_text.append(text)


def _all_vectors(data: store.IndexData) -> np.ndarray:
    n = data.vectors.ntotal
    return data.vectors.reconstruct_n(0, n) if n else np.zeros((0, data.vectors.d), dtype=np.float32)


def _centroids(vectors: np.ndarray, passage_lesson: np.ndarray, n_lessons: int, dim: int) -> np.ndarray:
    """Each lesson's mean passage vector, made unit length (its position for 'similar lessons')."""
    sums = np.zeros((n_lessons, dim), dtype=np.float32)
    np.add.at(sums, passage_lesson, vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return sums / np.maximum(norms, 1e-12)


def cache_dir(kb: KnowledgeBase) -> Path:
    """Where the ONNX export of the model is cached: LESSONS_CACHE_DIR, or the index folder."""
    return Path(os.environ.get("LESSONS_CACHE_DIR") or kb.index_dir / "models")
