"""The index folder (`.lessons/index/`): generations written beside each other, swapped atomically.

Each build writes a complete new generation folder (`generation.write`), then replaces the one-line `CURRENT` file that
names the live generation (write to a temporary file, then rename). A crash at any moment leaves
`CURRENT` naming a complete generation. The previous generation is kept so that a reader that has just
read `CURRENT` can still open it. Everything is JSON or numpy arrays loaded with allow_pickle=False, or
FAISS's own format: an index folder copied from elsewhere cannot run code.

The manifest records a SHA-256 of every file (of each block of passage vectors too, so that a repair re-embeds
only what it must) and of itself. A reader trusts a file whose fingerprint is unchanged since it was verified and
hashes the others (see `integrity`); any mismatch is `IndexDamaged`, which `lessons index` repairs (`repair`).
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..core.vocabulary import INDEX_FIELDS
from ..errors import IndexDamaged, IndexMissing, IndexOutdated, IndexProblem
from . import integrity
from .bm25 import KeywordIndex
from .flat import flat_index_matrix
from .lock import check_index_folder

FORMAT = 3  # 3: checksums in the manifest
CURRENT = "CURRENT"
ARRAYS = (
    "passage_lesson",
    "passage_section",
    "passage_hash",
    "passage_offsets",
    "record_offsets",
    "kw_indptr",
    "kw_docs",
    "kw_tfs",
    "kw_doclen",
)


REBUILD_HINT = "run 'lessons index --rebuild' to build it again"

Blob = bytes | mmap.mmap  # a whole file's bytes; loaded indexes map their files instead of reading them


class FileRow(NamedTuple):
    """An indexed lesson file, recognised as unchanged by its size and time or its content hash.

    `files.json` stores it as the list [path, size, mtime_ns, sha256, refs].
    """

    path: str  # relative to the knowledge base root, posix
    size: int
    mtime_ns: int
    sha256: str
    refs: tuple[str, ...]  # lesson ids it points to: its validity depends on them

    @property
    def stat(self) -> tuple[int, int]:
        return self.size, self.mtime_ns

    def with_stat(self, stat: tuple[int, int]) -> FileRow:
        """The same file with a new size and time (touched, content unchanged)."""
        return self._replace(size=stat[0], mtime_ns=stat[1])

    @classmethod
    def from_json(cls, row: list[Any]) -> FileRow:
        path, size, mtime_ns, sha256, refs = row
        return cls(path, size, mtime_ns, sha256, tuple(refs))

    def to_json(self) -> list[Any]:
        return [self.path, self.size, self.mtime_ns, self.sha256, list(self.refs)]


class SkippedFile(NamedTuple):
    """A lesson file left out of the index for its errors, remembered so that it is checked again only once it changes.

    `files.json` stores it as {"stat": [size, mtime_ns], "hash": sha256}.
    """

    size: int
    mtime_ns: int
    sha256: str

    @property
    def stat(self) -> tuple[int, int]:
        return self.size, self.mtime_ns

    def with_stat(self, stat: tuple[int, int]) -> SkippedFile:
        """The same file with a new size and time (touched, content unchanged)."""
        return self._replace(size=stat[0], mtime_ns=stat[1])

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> SkippedFile:
        size, mtime_ns = record["stat"]
        return cls(size, mtime_ns, record["hash"])

    def to_json(self) -> dict[str, Any]:
        return {"stat": [self.size, self.mtime_ns], "hash": self.sha256}


@dataclass
class IndexData:
    """An index generation. The query path reads only what it needs: the facets of every lesson, the passage
    vectors (memory-mapped) and keyword arrays; full lesson records and passage texts are read on demand."""

    manifest: dict[str, Any]
    files: list[FileRow]  # per lesson row
    skipped: dict[str, SkippedFile]  # files left out because of errors, by path
    facets: dict[str, list[Any]]  # per lesson row, the fields filters and listings use (INDEX_FIELDS)
    passage_lesson: np.ndarray  # int32 lesson row of each passage (passages of a lesson are contiguous)
    passage_section: np.ndarray  # int16 index into manifest["sections"]
    passage_hash: np.ndarray  # uint64 hash of the text the model read
    passage_offsets: np.ndarray  # int64 byte offsets into passages.bin, len(passages) + 1
    record_offsets: np.ndarray  # int64 byte offsets into lessons.jsonl, len(lessons) + 1
    matrix: np.ndarray  # passage vectors (passages x dimension), read from passages.faiss
    keyword: KeywordIndex
    folder: Path | None = None
    passage_blob: Blob = b""  # passages.bin
    record_blob: Blob = b""  # lessons.jsonl
    lesson_index: Any = None  # faiss.IndexFlatIP over lessons; the indexer sets it, a loaded index reads it on first use
    bad_vectors: np.ndarray | None = None  # for a repair: True for each passage whose vector failed its checksum
    lesson_vectors_bad: bool = False  # for a repair: lessons.faiss failed its checksum (recomputed from passages)
    repairs: list[str] = field(default_factory=list)  # for a repair: what was found damaged, in words
    _records: list[dict[str, Any]] | None = None
    _by_id: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def empty(cls, dimension: int) -> IndexData:
        """An index of no lessons: a first build starts from it as a refresh starts from the previous index."""
        keyword = KeywordIndex(
            {}, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)
        )
        return cls(
            {"sections": []},
            [],
            {},
            {name: [] for name in INDEX_FIELDS},
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.int16),
            np.zeros(0, dtype=np.uint64),
            np.zeros(1, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
            np.zeros((0, dimension), dtype=np.float32),
            keyword,
        )

    @property
    def size(self) -> int:
        return len(self.files)

    @property
    def ids(self) -> list[str]:
        return self.facets["id"]

    @property
    def name(self) -> str:
        return self.folder.name if self.folder else ""

    def record(self, row: int) -> dict[str, Any]:
        """The full record of a lesson: id, path and every front-matter field."""
        if self._records is not None:
            return self._records[row]
        raw = bytes(self.record_blob[self.record_offsets[row] : self.record_offsets[row + 1]])
        try:
            record = json.loads(raw)
        except ValueError:
            raise damaged(self.folder, "lessons.jsonl holds a record that is not JSON") from None
        if not isinstance(record, dict):
            raise damaged(self.folder, "lessons.jsonl holds a record that is not an object")
        return record

    @property
    def lessons(self) -> list[dict[str, Any]]:
        """Every full record (reads them all: for indexing and reports, not for answering a query)."""
        if self._records is None:
            self._records = [self.record(i) for i in range(self.size)]
        return self._records

    def passage(self, i: int) -> str:
        try:
            return bytes(self.passage_blob[self.passage_offsets[i] : self.passage_offsets[i + 1]]).decode("utf-8")
        except UnicodeDecodeError:
            raise damaged(self.folder, "passages.bin holds text that is not UTF-8") from None

    def section(self, i: int) -> str:
        return self.manifest["sections"][int(self.passage_section[i])]

    def row_of(self, lesson_id: str) -> int | None:
        if not self._by_id:
            self._by_id = {lesson_id: i for i, lesson_id in enumerate(self.ids)}
        return self._by_id.get(lesson_id)

    def vector_matrix(self) -> np.ndarray:
        """The passage vectors as a (passages x dimension) array, without copying."""
        return self.matrix

    @property
    def vectors(self) -> Any:
        """The passages' faiss.IndexFlatIP (built from the matrix; the query path does not need FAISS itself)."""
        import faiss

        index = faiss.IndexFlatIP(self.matrix.shape[1])
        if len(self.matrix):
            index.add(np.ascontiguousarray(self.matrix, dtype=np.float32))
        return index

    @property
    def lesson_vectors(self) -> Any:
        """faiss.IndexFlatIP over lessons (the unit-length mean of their passages), loaded on first use."""
        if self.lesson_index is None:
            import faiss

            assert self.folder is not None
            try:
                self.lesson_index = faiss.read_index(str(self.folder / "lessons.faiss"))
            except RuntimeError:  # removed by two later writers meanwhile, or damaged since it was verified
                raise damaged(self.folder, "lessons.faiss cannot be read") from None
            if self.lesson_index.ntotal != self.size:
                raise damaged(self.folder, "lessons.faiss does not match the lessons")
        return self.lesson_index


def damaged(folder: Path | None, detail: str) -> IndexDamaged:
    return IndexDamaged(f"the index is damaged ({folder or 'index'}: {detail}); run 'lessons index' to repair it")


def index_root(kb_index_dir: Path) -> Path:
    return kb_index_dir / "index"


def current_generation(root: Path) -> Path:
    """The folder of the live generation, or IndexMissing."""
    check_index_folder(root.parent)
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissing(f"no index in {root.parent}: run 'lessons index'") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise damaged(root, f"CURRENT is unreadable ({exc.__class__.__name__})") from None
    folder = root / name
    if "/" in name or name.startswith(".") or not folder.is_dir():
        raise damaged(root, f"CURRENT names a generation '{name[:60]}' that does not exist")
    return folder


def read_manifest(folder: Path) -> dict[str, Any]:
    """The generation's manifest, checked against its own checksum."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise damaged(folder, f"manifest.json is missing or unreadable ({exc.__class__.__name__})") from None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT:
        if isinstance(found, int) and found < FORMAT:
            raise IndexOutdated(f"{folder} was written by an older version of lessons (format {found}); run 'lessons index' to update it")
        raise IndexProblem(f"{folder} was written by another version of lessons (format {found}, this tool reads {FORMAT}); {REBUILD_HINT}")
    if manifest.get("self_sha256") != integrity.manifest_digest(manifest):
        raise damaged(folder, "manifest.json does not match its checksum")
    return manifest


def load(root: Path, expect_model: dict[str, Any] | None = None, full: bool = False) -> IndexData:
    """Load the live generation, checking it is intact and built by the expected model. `full` hashes every file;
    otherwise only files whose fingerprint changed since they were verified are hashed (see `integrity`)."""
    for attempt in range(3):
        folder = current_generation(root)
        try:
            return load_generation(folder, expect_model, full)
        except IndexProblem:
            # a writer may have replaced the generation (and removed this one) while it was being read: read the new one
            if attempt == 2 or _current_name(root) in (None, folder.name):
                raise
    raise AssertionError("unreachable")


def _current_name(root: Path) -> str | None:
    try:
        return (root / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def load_generation(folder: Path, expect_model: dict[str, Any] | None = None, full: bool = False) -> IndexData:
    """One generation, verified (see `load`)."""
    manifest = read_manifest(folder)
    if expect_model is not None:
        check_model(manifest, expect_model)
    damage = integrity.inspect(folder, manifest, full)
    if damage:
        raise damaged(folder, damage.describe())
    return read_verified(folder, manifest)


def read_verified(folder: Path, manifest: dict[str, Any], matrix: np.ndarray | None = None) -> IndexData:
    """Read a generation whose files passed their checksums, checking that they also fit together.
    A repair passes the passage vectors it could save in `matrix`."""
    try:
        return _read(folder, manifest, matrix)
    except IndexProblem:
        raise
    except Exception as exc:  # numpy, faiss and json each raise their own kinds on damaged files
        raise damaged(folder, f"{exc.__class__.__name__}: {str(exc)[:120]}") from None


def check_model(manifest: dict[str, Any], expect: dict[str, Any]) -> None:
    """Refuse to mix vectors of two models."""
    have = manifest.get("model", {})
    for key in ("name", "sha256", "dimension"):
        if key in expect and have.get(key) != expect[key]:
            raise IndexProblem(
                f"the index was built with model {have.get('name')} ({key} {str(have.get(key))[:16]}), "
                f"but the knowledge base now uses {expect.get('name')} ({key} {str(expect[key])[:16]}); {REBUILD_HINT}"
            )


def _read(folder: Path, manifest: dict[str, Any], matrix: np.ndarray | None) -> IndexData:
    arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in ARRAYS}
    files = json.loads((folder / "files.json").read_text(encoding="utf-8"))
    facets = json.loads((folder / "facets.json").read_text(encoding="utf-8"))
    dim = manifest["model"]["dimension"]
    if matrix is None:
        matrix = flat_index_matrix(folder / "passages.faiss", dim)
    vocab = json.loads((folder / "kw_vocab.json").read_text(encoding="utf-8"))
    n_lessons = len(files["lessons"])
    sizes = {name: (folder / name).stat().st_size for name in ("passages.bin", "lessons.jsonl")}
    problem = integrity.misfit(arrays, matrix, n_lessons, len(manifest["sections"]), sizes, len(vocab))
    if problem or any(len(facets.get(name, ())) != n_lessons for name in INDEX_FIELDS):
        raise damaged(folder, f"its parts do not fit together ({problem or 'facets.json'})")
    keyword = KeywordIndex(vocab, arrays["kw_indptr"], arrays["kw_docs"], arrays["kw_tfs"], arrays["kw_doclen"])
    blobs: list[Blob] = []
    for name in ("passages.bin", "lessons.jsonl"):
        with open(folder / name, "rb") as handle:
            blobs.append(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if sizes[name] else b"")
    return IndexData(
        manifest,
        [FileRow.from_json(row) for row in files["lessons"]],
        {path: SkippedFile.from_json(rec) for path, rec in files["skipped"].items()},
        facets,
        arrays["passage_lesson"],
        arrays["passage_section"],
        arrays["passage_hash"],
        arrays["passage_offsets"],
        arrays["record_offsets"],
        matrix,
        keyword,
        folder=folder,
        passage_blob=blobs[0],
        record_blob=blobs[1],
    )
