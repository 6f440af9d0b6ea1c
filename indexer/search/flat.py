"""FAISS IndexFlatIP files read and written with numpy, so that a search need not load FAISS."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import IndexProblem


def flat_index_matrix(path: Path, dim: int) -> np.ndarray:
    """The vectors of a FAISS IndexFlatIP file, read without loading FAISS.

    FAISS writes a flat index as a fixed header ('IxFI', dimension, count, ...) followed by the raw
    float32 vectors. If the header is not exactly that, FAISS itself reads the file.
    """
    import struct

    size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(45)
    if len(header) == 45 and header[:4] == b"IxFI":
        d, n = struct.unpack_from("<iq", header, 4)
        (metric,), (elements,) = struct.unpack_from("<i", header, 33), struct.unpack_from("<Q", header, 37)
        if d == dim and metric == 0 and elements == n * d and size == 45 + 4 * n * d:
            # one sequential read: every search scans all vectors, and page faults on a memory map cost more
            return np.fromfile(path, dtype=np.float32, count=n * d, offset=45).reshape(n, d)
    import faiss

    index = faiss.read_index(str(path))
    if index.d != dim:
        raise IndexProblem(f"{path} holds vectors of dimension {index.d}, the model has {dim}; run 'lessons index --rebuild'")
    return index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, dim), dtype=np.float32)


def write_flat_index(path: Path, matrix: np.ndarray) -> None:
    """Write vectors as a FAISS IndexFlatIP file (the layout faiss.write_index uses) without copying them into FAISS.

    A test reads the result back with faiss.read_index.
    """
    import struct

    n, d = matrix.shape
    header = b"IxFI" + struct.pack("<iqqq?i", d, n, 1 << 20, 1 << 20, True, 0) + struct.pack("<Q", n * d)
    with path.open("wb") as handle:
        handle.write(header)
        np.ascontiguousarray(matrix, dtype="<f4").tofile(handle)
