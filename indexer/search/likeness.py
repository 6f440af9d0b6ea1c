"""How alike two lessons are, whatever the order of their text: passage-to-passage alignment of meaning, and
shared word shingles for retold copies. Pure functions over passage vectors and texts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from .bm25 import tokenize

SHINGLE_WORDS = 4  # content words per shingle (stop words removed, accents folded)


def alignment(a: np.ndarray, b: np.ndarray) -> float:
    """Each passage's best cosine in the other lesson, averaged over both lessons' passages, then the two averaged.

    Moving paragraphs under other headings or reordering sections leaves it almost unchanged, unlike the
    cosine of the two lessons' mean vectors.
    """
    if not len(a) or not len(b):
        return 0.0
    cos = np.asarray(a, dtype=np.float32) @ np.asarray(b, dtype=np.float32).T
    return float(0.5 * (cos.max(axis=1).mean() + cos.max(axis=0).mean()))


def shingles(texts: Sequence[str], size: int = SHINGLE_WORDS) -> frozenset[int]:
    """Hashes of every run of `size` consecutive content words inside each text."""
    out: set[int] = set()
    for text in texts:
        words = tokenize(text)
        for i in range(len(words) - size + 1):
            digest = hashlib.blake2b(" ".join(words[i : i + size]).encode(), digest_size=8).digest()
            out.add(int.from_bytes(digest, "little"))
    return frozenset(out)


def containment(a: frozenset[int], b: frozenset[int]) -> float:
    """The share of the smaller lesson's shingles found in the other one (1.0: one text is inside the other)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
