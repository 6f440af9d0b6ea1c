"""Checksums that say whether the index and model files are still what was written, and a cheap way to trust them.

Hashing every file on every search would cost about 0.1 s per 100 MB. A file whose size, modification time,
change time and inode are those recorded right after its last full verification has not been written since:
any write (and any `touch`, which cannot set the change time) changes its change time. So a full verification
records these fingerprints, and later readers hash again only the files whose fingerprint moved (copied,
restored or edited). What the fingerprint cannot see is damage below the file system (bit rot); `lessons index`
hashes everything each time to catch that too.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import write_atomic

BLOCK_ROWS = 1024  # passage vectors per checksum block: repair re-embeds only the passages of damaged blocks
FLAT_HEADER = 45  # bytes before the vectors in a FAISS IndexFlatIP file (see flat.flat_index_matrix)
VECTORS = "passages.faiss"
STAMP = "verified.json"  # fingerprints of files verified by hashing after they were written (copied, restored)


@dataclass
class Damage:
    """The files of a generation that failed their checksums, and which blocks of passage vectors did."""

    files: list[str] = field(default_factory=list)
    bad_blocks: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.files)

    def describe(self) -> str:
        return f"{', '.join(self.files)} {'does' if len(self.files) == 1 else 'do'} not match the recorded checksum"


def record(folder: Path, dimension: int, rows: int) -> dict[str, Any]:
    """The checksums and fingerprints of every file in a generation just written, for its manifest."""
    blocks = vector_blocks(folder / VECTORS, rows, dimension)
    paths = sorted(p for p in folder.iterdir() if p.name != "manifest.json")
    checksums = {p.name: vector_file_digest(p, blocks) if p.name == VECTORS else file_sha256(p) for p in paths}
    return {"checksums": checksums, "vector_blocks": blocks, "fingerprints": {p.name: fingerprint(p) for p in paths}}


def inspect(folder: Path, manifest: dict[str, Any], full: bool) -> Damage:
    """Compare each file with its checksum: every file if `full`, else only those whose fingerprint moved since
    they were last verified (then recorded in the stamp, so the next reader need not hash them again)."""
    stamp = read_stamp(folder / STAMP)
    trusted = {} if full else manifest.get("fingerprints", {}) | stamp
    damage, verified = Damage(), {}
    for name, expected in manifest.get("checksums", {}).items():
        path = folder / name
        try:
            now = fingerprint(path)
            if now == trusted.get(name):
                continue
            intact = _check_file(path, expected, manifest, damage)
        except OSError:
            intact = False
        if intact:
            verified[name] = now
        else:
            damage.files.append(name)
    if any(stamp.get(name) != now for name, now in verified.items()):
        write_stamp(folder / STAMP, stamp | verified)
    return damage


def _check_file(path: Path, expected: str, manifest: dict[str, Any], damage: Damage) -> bool:
    if path.name != VECTORS:
        return file_sha256(path) == expected
    recorded = manifest.get("vector_blocks", [])
    blocks = vector_blocks(path, manifest["counts"]["passages"], manifest["model"]["dimension"])
    damage.bad_blocks = [i for i, digest in enumerate(blocks) if i >= len(recorded) or digest != recorded[i]]
    return vector_file_digest(path, blocks) == expected


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(path: Path) -> list[int]:
    """Size, modification time, change time and inode: what any write to the file changes."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def vector_blocks(path: Path, rows: int, dimension: int) -> list[str]:
    """The SHA-256 of each block of BLOCK_ROWS passage vectors in a flat index file, header excluded."""
    width = BLOCK_ROWS * dimension * 4
    blocks = []
    with path.open("rb") as handle:
        handle.seek(FLAT_HEADER)
        for _ in range(0, rows, BLOCK_ROWS):
            blocks.append(hashlib.sha256(handle.read(width)).hexdigest())
    return blocks


def vector_file_digest(path: Path, blocks: list[str]) -> str:
    """The checksum of a passage-vector file: its header and its block checksums, hashed together (one pass over the file)."""
    with path.open("rb") as handle:
        header = handle.read(FLAT_HEADER)
    return hashlib.sha256(header + "".join(blocks).encode()).hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The checksum of a manifest's own content, every key but `self_sha256`, in a canonical form."""
    body = {key: value for key, value in manifest.items() if key != "self_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def read_stamp(path: Path) -> dict[str, list[int]]:
    """Fingerprints recorded after a full verification, or {} when there is no readable stamp."""
    try:
        stamp = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def write_stamp(path: Path, fingerprints: dict[str, list[int]]) -> None:
    """Record fingerprints after a full verification; best effort (a read-only folder only costs hashing again)."""
    try:
        write_atomic(path, json.dumps(fingerprints))
    except OSError:
        pass


def misfit(arrays: dict[str, np.ndarray], matrix: np.ndarray, lessons: int, sections: int, sizes: dict[str, int], terms: int) -> str:
    """What does not fit together in a generation's arrays (offsets past the end, rows out of range, wrong shapes), or ""."""
    passages = len(arrays["passage_lesson"])
    checks = {
        "passage vectors": matrix.ndim == 2 and len(matrix) == passages,
        "passage_offsets": _offsets_fit(arrays["passage_offsets"], passages, sizes["passages.bin"]),
        "record_offsets": _offsets_fit(arrays["record_offsets"], lessons, sizes["lessons.jsonl"]),
        "passage_lesson": _rows_fit(arrays["passage_lesson"], lessons, ordered=True),
        "passage_section": _rows_fit(arrays["passage_section"], sections, ordered=False),
        "passage_hash": len(arrays["passage_hash"]) == passages,
        "kw_indptr": _offsets_fit(arrays["kw_indptr"], terms, len(arrays["kw_docs"])),
        "kw_docs": _rows_fit(arrays["kw_docs"], lessons, ordered=False) and len(arrays["kw_tfs"]) == len(arrays["kw_docs"]),
        "kw_doclen": len(arrays["kw_doclen"]) == lessons and bool(np.isfinite(arrays["kw_doclen"]).all()),
        "kw_tfs": bool(np.isfinite(arrays["kw_tfs"]).all()),
    }
    return ", ".join(name for name, fits in checks.items() if not fits)


def _offsets_fit(offsets: np.ndarray, items: int, end: int) -> bool:
    return (
        offsets.ndim == 1 and len(offsets) == items + 1 and offsets[0] == 0 and offsets[-1] == end and bool((np.diff(offsets) >= 0).all())
    )


def _rows_fit(rows: np.ndarray, count: int, ordered: bool) -> bool:
    if rows.ndim != 1 or (len(rows) and (rows.min() < 0 or rows.max() >= count)):
        return False
    return not ordered or bool((np.diff(rows) >= 0).all())
