"""A new index generation, laid out lesson by lesson in row order: runs of unchanged lessons are copied from the
old generation as array slices, new or changed lessons are added with their passages, and only passage texts
that no old or earlier passage shares are embedded (`build` decides which lesson is which). `write` puts the
generation on disk beside the live one and swaps it in atomically (`store` describes the folder and reads it)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .. import __version__
from ..core.files import write_atomic
from ..core.vocabulary import INDEX_FIELDS, SCHEMA_VERSION
from ..errors import IndexProblem
from . import bm25, integrity, store
from .flat import write_flat_index
from .store import FileRow, SkippedFile

if TYPE_CHECKING:
    from ..core.lesson import Lesson
    from ..core.taxonomy import Taxonomy
    from .passages import Passage

Log = Callable[[str], None]
Progress = Callable[[int, int], None]
Stat = tuple[int, int]  # size, modification time in ns


class Embedder(Protocol):
    """Anything that turns texts into unit-length float32 vectors."""

    dimension: int

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None) -> np.ndarray: ...


def hash_text(text: str) -> int:
    """The 64-bit hash by which a passage's text is recognised across generations."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


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

    def add_lesson(self, lesson: Lesson, file: FileRow) -> None:
        """Append a new or changed lesson, found on disk as `file` (its links are read from the lesson); its vectors
        come later, from `embed`."""
        from .passages import keyword_text, lesson_passages

        row, meta = len(self.files), lesson.meta.model_dump(mode="json")
        refs = tuple(ref for ref in (*lesson.meta.related, lesson.meta.superseded_by, lesson.meta.duplicate_of) if ref)
        self.files.append(file._replace(refs=refs))
        self._facets.append(_facet_row(lesson.id, meta))
        self._records.add([json.dumps({"id": lesson.id, "path": file.path, **meta}, ensure_ascii=False).encode("utf-8") + b"\n"])
        self._add_passages(row, lesson_passages(lesson, self._taxonomy))
        self._new_docs.append((row, bm25.doc_terms(keyword_text(lesson, self._taxonomy), self._vocab)))

    def _add_passages(self, row: int, passages: list[Passage]) -> None:
        first = self._passages
        hashes = np.array([hash_text(p.embed_text) for p in passages], dtype=np.uint64)
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
        """The complete generation, for `write`."""
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


def write(root: Path, data: store.IndexData) -> str:
    """Write `data` as a new generation and make it live atomically. Returns the generation name."""
    import faiss

    _refuse_non_unit(data.matrix)
    root.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.time_ns()}-{os.getpid()}"
    tmp = root / f".{name}.tmp"
    tmp.mkdir()
    arrays = {
        "passage_lesson": data.passage_lesson,
        "passage_section": data.passage_section,
        "passage_hash": data.passage_hash,
        "passage_offsets": data.passage_offsets,
        "record_offsets": data.record_offsets,
        "kw_indptr": data.keyword.indptr,
        "kw_docs": data.keyword.docs,
        "kw_tfs": data.keyword.tfs,
        "kw_doclen": data.keyword.doc_len,
    }
    for key, array in arrays.items():
        np.save(tmp / f"{key}.npy", np.ascontiguousarray(array), allow_pickle=False)
    (tmp / "passages.bin").write_bytes(data.passage_blob)
    (tmp / "lessons.jsonl").write_bytes(data.record_blob)
    files = {"lessons": [row.to_json() for row in data.files], "skipped": {path: rec.to_json() for path, rec in data.skipped.items()}}
    (tmp / "files.json").write_text(json.dumps(files, ensure_ascii=False))
    (tmp / "facets.json").write_text(json.dumps(data.facets, ensure_ascii=False))
    (tmp / "kw_vocab.json").write_text(json.dumps(data.keyword.vocab, ensure_ascii=False))
    write_flat_index(tmp / "passages.faiss", data.matrix)
    faiss.write_index(data.lesson_vectors, str(tmp / "lessons.faiss"))
    manifest = dict(
        data.manifest,
        format=store.FORMAT,
        tool_version=__version__,
        schema_version=SCHEMA_VERSION,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    manifest["files"] = {p.name: p.stat().st_size for p in sorted(tmp.iterdir())}
    for path in tmp.iterdir():
        _fsync(path)
    manifest.update(integrity.record(tmp, data.matrix.shape[1], len(data.matrix)))
    manifest["self_sha256"] = integrity.manifest_digest(manifest)
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    _fsync(tmp / "manifest.json")
    os.replace(tmp, root / name)
    _fsync(root)
    write_atomic(root / store.CURRENT, name + "\n")
    _fsync(root)
    data.manifest, data.folder = manifest, root / name
    _cleanup(root, keep={name})
    return name


def _refuse_non_unit(matrix: np.ndarray) -> None:
    """Every passage vector is unit length, so every cosine score is within [-1, 1]; anything else is a bug upstream."""
    norms = np.einsum("ij,ij->i", matrix, matrix) if len(matrix) else np.zeros(0)
    if not np.isfinite(norms).all() or (np.abs(norms - 1.0) > 1e-3).any():
        raise IndexProblem("the embedding model gave vectors that are not unit length; the index was not written")


def _cleanup(root: Path, keep: set[str]) -> None:
    """Remove unfinished generations and all but the two newest complete ones (a reader may still use the previous)."""
    generations = sorted((p for p in root.iterdir() if p.is_dir() and p.name.startswith("gen-")), key=lambda p: int(p.name.split("-")[1]))
    for path in generations[:-2]:
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
    for path in root.glob(".gen-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
