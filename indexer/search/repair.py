"""Opening the previous index for a refresh, and saving what can be saved of a damaged one.

`lessons index` verifies every file of the live generation against its checksum. Damage is repaired with as
little embedding as it allows:
- damaged blocks of passage vectors: only the lessons with a passage in them are embedded again;
- damaged lesson vectors (lessons.faiss): recomputed from the passage vectors;
- any other damaged file (texts, records, keyword arrays, lists): every lesson is read again from its file,
  and each passage whose text already has an intact vector keeps it;
- a damaged manifest or CURRENT: the newest other generation that verifies is the starting point;
- an index written by the previous format (no checksums): rebuilt from the files, keeping its unit-length vectors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexDamaged, IndexMissing, IndexOutdated, IndexProblem
from . import integrity, store
from .flat import flat_index_matrix

Log = Callable[[str], None]
VECTOR_FILES = {integrity.VECTORS, "lessons.faiss"}


def open_previous(root: Path, identity: dict[str, Any], log: Log | None, full: bool = True) -> store.IndexData | None:
    """The live generation, verified (every file hashed if `full`, else as readers do); when damaged, what can be
    saved of it, its `repairs` saying what was found."""
    try:
        folder = store.current_generation(root)
        manifest = store.read_manifest(folder)
        store.check_model(manifest, identity)
    except IndexMissing:
        return None
    except IndexDamaged as exc:
        return _other_generation(root, identity, str(exc))
    except IndexOutdated:
        return _upgrade(folder, identity)
    except IndexProblem as exc:
        if log:
            log(f"The existing index cannot be reused ({exc}); building a new one.")
        return None
    damage = integrity.inspect(folder, manifest, full)
    if set(damage.files) <= VECTOR_FILES:
        try:
            return _with_bad_vectors(folder, manifest, damage)
        except IndexDamaged:  # every checksum holds but the parts do not fit: written so by a faulty version
            damage.files.append("(the parts do not fit together)")
    return _vectors_only(folder, manifest, damage) or _other_generation(root, identity, f"{', '.join(damage.files)} damaged", folder)


def _with_bad_vectors(folder: Path, manifest: dict[str, Any], damage: integrity.Damage) -> store.IndexData:
    """The generation as it is, its damaged passage vectors marked for embedding again (nothing marked if intact)."""
    matrix, bad = _saved_vectors(folder, manifest, damage)
    data = store.read_verified(folder, manifest, matrix)
    data.lesson_vectors_bad = "lessons.faiss" in damage.files
    if bad.any():
        data.bad_vectors = bad
        lessons = len(np.unique(data.passage_lesson[bad]))
        blocks = len(damage.bad_blocks)
        data.repairs.append(f"{integrity.VECTORS}: {blocks} damaged block(s); the {lessons} lesson(s) in them embedded again")
    elif integrity.VECTORS in damage.files:
        data.repairs.append(f"{integrity.VECTORS}: damaged header rewritten")
    if data.lesson_vectors_bad:
        data.repairs.append("lessons.faiss: damaged; recomputed from the passage vectors")
    return data


def _vectors_only(folder: Path, manifest: dict[str, Any], damage: integrity.Damage, what: str = "damaged") -> store.IndexData | None:
    """Only the intact passage vectors and their text hashes, to rebuild everything else from the lesson files."""
    if "passage_hash.npy" in damage.files:
        return None
    try:
        hashes = np.load(folder / "passage_hash.npy", allow_pickle=False)
        matrix, bad = _saved_vectors(folder, manifest, damage)
        if hashes.shape != (len(matrix),):
            return None
    except (OSError, ValueError, RuntimeError, IndexProblem):  # numpy and faiss on files that are not what they claim
        return None
    data = store.IndexData.empty(matrix.shape[1])
    data.passage_hash, data.matrix, data.bad_vectors = hashes, matrix, bad
    data.repairs.append(
        f"{', '.join(damage.files)}: {what}; rebuilt from the lesson files, keeping the {int((~bad).sum())} intact passage vectors"
    )
    return data


def _upgrade(folder: Path, identity: dict[str, Any]) -> store.IndexData | None:
    """An index of format 2 (no checksums) as the vectors it holds, so that updating it embeds nothing again."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        store.check_model(manifest, identity)
        manifest["counts"]["passages"] = int(np.load(folder / "passage_hash.npy", mmap_mode="r").shape[0])
    except (IndexProblem, OSError, ValueError, KeyError, TypeError):
        return None
    return _vectors_only(folder, manifest, integrity.Damage([folder.name]), "written by an older version, without checksums")


def _saved_vectors(folder: Path, manifest: dict[str, Any], damage: integrity.Damage) -> tuple[np.ndarray, np.ndarray]:
    """The passage vectors read past the header, and which rows lie in damaged blocks (all of them if the size is wrong)."""
    rows, dim = manifest["counts"]["passages"], manifest["model"]["dimension"]
    path = folder / integrity.VECTORS
    bad = np.zeros(rows, dtype=bool)
    if integrity.VECTORS not in damage.files:
        matrix = flat_index_matrix(path, dim)
        norms = np.einsum("ij,ij->i", matrix, matrix)
        return matrix, ~np.isfinite(norms) | (np.abs(norms - 1.0) > 1e-3)  # never carry over a vector of the wrong length
    if path.is_file() and path.stat().st_size == integrity.FLAT_HEADER + 4 * rows * dim:
        matrix = np.fromfile(path, dtype="<f4", count=rows * dim, offset=integrity.FLAT_HEADER).reshape(rows, dim)
        for block in damage.bad_blocks:
            bad[block * integrity.BLOCK_ROWS : (block + 1) * integrity.BLOCK_ROWS] = True
        return matrix, bad
    return np.zeros((rows, dim), dtype=np.float32), ~bad


def _other_generation(root: Path, identity: dict[str, Any], reason: str, exclude: Path | None = None) -> store.IndexData | None:
    """The newest other complete generation that verifies in full, as the starting point of a refresh."""
    for folder in sorted(_generations(root), key=_created, reverse=True):
        if folder == exclude:
            continue
        try:
            data = store.load_generation(folder, identity, full=True)
        except IndexProblem:
            continue
        data.repairs.append(f"{reason}; started again from the previous index ({folder.name})")
        return data
    empty = store.IndexData.empty(int(identity["dimension"]))
    empty.repairs.append(f"{reason}; nothing could be saved, every lesson embedded again")
    return empty


def _generations(root: Path) -> list[Path]:
    try:
        return [p for p in root.iterdir() if p.is_dir() and p.name.startswith("gen-")]
    except OSError:
        return []


def _created(folder: Path) -> int:
    try:
        return int(folder.name.split("-")[1])
    except (IndexError, ValueError):
        return 0
