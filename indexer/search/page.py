"""The search page's ranking by meaning, in two stages, and the vectors it reads; Python's reference for rank.js.

The CLI compares a question with every passage at full precision. The page cannot download that (about 400
bytes a passage), so it ranks in two stages:
1. every passage as signs only (one bit per dimension) with one float scale: `scale * (sign . query)`, which
   ranks roughly; the lessons are fused with their keyword evidence as `fusion.fuse` does, and the first
   `CANDIDATES` (filters applied) go on;
2. those lessons' passages as int8 vectors with one scale each (`quantise`), fetched in shards of
   `VECTOR_SHARD` lessons only when a candidate falls in them: their best-passage cosine replaces the rough one,
   and the candidates are fused again and cut to the shown number. A shard holds lessons close in meaning
   (`shard_lessons`), so that a question's candidates fall in fewer files.
Language centring takes each lesson's best estimate: the int8 cosine for the candidates, the signs' for the
others (so with every lesson a candidate the page ranks as int8 vectors alone would). Everything else is
`rank.answer`'s. bench/search_page.py ("data_side") and tests/slow/test_search_page.py measure how often the
two agree when fed the same query vectors; tests/quick/test_search_export.py keeps rank.js equal to this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.taxonomy import Taxonomy
from .bm25 import question_terms
from .expansion import expand
from .fusion import PARAMETERS, centre_languages, closeness, fuse, keyword_evidence, nothing_close
from .store import IndexData

CANDIDATES = 40  # lessons re-ranked with int8 vectors; measured in docs/how-search-works.md
VECTOR_SHARD = 8  # lessons per int8 vector file (and passage text file), grouped by meaning; see shard_lessons


def quantise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 vectors with one float32 scale each (largest component -> 127); cosine is scale * (q . query)."""
    peak = np.abs(matrix).max(axis=1) if len(matrix) else np.zeros(0, dtype=np.float32)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    return np.rint(matrix / scales[:, None]).astype(np.int8), scales


def signs(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One bit per dimension (1 for a positive component, first dimension in the high bit of the first byte) and
    1 / (sum of absolute components) as scale: with u the unit sign vector, cos(q, v) ~ (q . u) / (v . u), exact for
    q = v (RaBitQ's estimator, without its rotation), where the least-squares scale shrinks every score by v . u."""
    bits = np.packbits(matrix > 0, axis=1) if len(matrix) else np.zeros((0, matrix.shape[1] // 8), dtype=np.uint8)
    scales = (1.0 / np.maximum(np.abs(matrix).sum(axis=1), 1e-12)).astype(np.float32) if len(matrix) else np.zeros(0, dtype=np.float32)
    return bits, scales


def shard_lessons(centroids: np.ndarray, size: int) -> np.ndarray:
    """The shard of each lesson, from its passages' mean vector (`centroids`, one row a lesson): the lessons are
    split in two along their main direction of spread, again and again, until each part holds at most `size`;
    each cut leaves a whole number of shards on its first side, so every shard but one is full. Lessons close in
    meaning share a shard, so a question's candidates fall in fewer files (bench/search_page.py's "candidate_files",
    given in docs/how-search-works.md). The same input always gives the same shards (a fixed start for the power
    iteration, stable sorts)."""
    shard = np.zeros(len(centroids), dtype=np.int64)
    parts, count = [np.arange(len(centroids))], 0
    while parts:
        part = parts.pop()
        if len(part) <= size:
            shard[part], count = count, count + 1
            continue
        spread = centroids[part] - centroids[part].mean(axis=0)
        direction = np.ones(centroids.shape[1]) / np.sqrt(centroids.shape[1])
        for _ in range(30):  # power iteration: the direction of largest variance
            direction = spread.T @ (spread @ direction)
            direction /= np.linalg.norm(direction) or 1.0
        order = part[np.argsort(spread @ direction, kind="stable")]
        cut = max(size, (len(part) // 2) // size * size)
        parts += [order[cut:], order[:cut]]  # the first side next: shard numbers follow the order
    return shard


@dataclass(frozen=True)
class PageVectors:
    """The exported lessons' passage vectors as the page has them, passages of a lesson contiguous."""

    rows: np.ndarray  # the index row of each exported lesson
    counts: np.ndarray  # passages per exported lesson
    bits: np.ndarray  # (passages, dimension / 8) uint8
    bit_scales: np.ndarray  # float32
    values: np.ndarray  # (passages, dimension) int8
    scales: np.ndarray  # float32

    @classmethod
    def of(cls, matrix: np.ndarray, rows: list[int], counts: list[int]) -> PageVectors:
        """Both encodings of the exported passages' vectors (`matrix`, in exported order)."""
        bits, bit_scales = signs(matrix)
        values, scales = quantise(matrix)
        return cls(np.asarray(rows, dtype=np.int64), np.asarray(counts, dtype=np.int64), bits, bit_scales, values, scales)

    @classmethod
    def read(cls, files: dict[str, bytes], rows: list[int], counts: list[int], dimension: int, shards: list[int]) -> PageVectors:
        """The vectors as the page reads them from export.browser_files' signs.bin and vectors-N.bin, where shard N
        holds the passages of the lessons with `shards[lesson] == N`, in lesson order."""
        n = int(sum(counts))
        signs_bin = files["signs.bin"]
        bits = np.frombuffer(signs_bin, dtype=np.uint8, offset=4 * n).reshape(n, dimension // 8)
        starts = np.r_[0, np.cumsum(counts)].astype(np.int64)
        values, scales = np.zeros((n, dimension), dtype=np.int8), np.zeros(n, dtype=np.float32)
        for k in range(max(shards, default=-1) + 1):
            members = [lesson for lesson, shard in enumerate(shards) if shard == k]
            where = np.concatenate([np.arange(starts[m], starts[m + 1]) for m in members] or [np.zeros(0, np.int64)])
            part = files[f"vectors-{k}.bin"]
            scales[where] = np.frombuffer(part[: 4 * len(where)], dtype="<f4")
            values[where] = np.frombuffer(part[4 * len(where) :], dtype=np.int8).reshape(len(where), dimension)
        bit_scales = np.frombuffer(signs_bin[: 4 * n], dtype="<f4")
        return cls(np.asarray(rows, dtype=np.int64), np.asarray(counts, dtype=np.int64), bits, bit_scales, values, scales)

    def rough(self, query: np.ndarray) -> np.ndarray:
        """Per exported lesson, the best passage's sign estimate of the cosine (0 for a lesson without passages)."""
        sign = np.unpackbits(self.bits, axis=1, count=len(query)).astype(np.float64) * 2.0 - 1.0
        return _best(self.bit_scales * (sign @ np.asarray(query, dtype=np.float64)), self.counts)[0]

    def exact(self, query: np.ndarray, lessons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For some exported lessons: the best passage's int8 cosine and that passage's number (first on ties)."""
        starts = np.r_[0, np.cumsum(self.counts)]
        best, passage = np.zeros(len(lessons)), np.zeros(len(lessons), dtype=np.int64)
        q = np.asarray(query, dtype=np.float64)
        for i, lesson in enumerate(lessons):
            lo, hi = starts[lesson], starts[lesson + 1]
            if hi > lo:
                cosine = self.scales[lo:hi] * (self.values[lo:hi].astype(np.float64) @ q)
                passage[i] = lo + int(np.argmax(cosine))
                best[i] = cosine.max()
        return best, passage


def _best(per_passage: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros(len(counts))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    has = counts > 0
    if has.any():
        out[has] = np.maximum.reduceat(per_passage, starts[has])
    return out, starts


@dataclass(frozen=True)
class PageAnswer:
    """The page's answer to one question: index rows, fused scores, best passage numbers, nothing-close, and the
    first stage's candidates (index rows), whose int8 shards the page fetches."""

    rows: list[int]
    scores: list[float]
    passages: list[int]
    nothing_close: bool
    candidates: list[int]


def answer(
    data: IndexData,
    page: PageVectors,
    query: str,
    vectors: tuple[np.ndarray, np.ndarray],
    allowed: np.ndarray,
    top_k: int,
    dense_weight: float,
    taxonomy: Taxonomy | None,
    candidates: int = CANDIDATES,
) -> PageAnswer:
    """The page's top lessons for `query`, given its plain and expanded embeddings (`vectors`) and the index rows
    that may be shown (`allowed`, over the index): rank.answer with the two stages of meaning above."""
    plain, wide = vectors
    expansion = expand(query, taxonomy)
    exported = np.zeros(data.size, dtype=bool)
    exported[page.rows] = True
    allowed = allowed & exported
    evidence = keyword_evidence(data.keyword.matches(question_terms(query)), data.keyword.matches(expansion.terms), data.size)
    topic = np.zeros(data.size)
    named = {slug for section, slug in expansion.entries if section == "technologies"}
    topic[[r for r, techs in enumerate(data.facets["technologies"]) if named and not named.isdisjoint(techs)]] = 1.0
    rough = np.zeros(data.size)
    rough[page.rows] = page.rough(wide)
    centred = centre_languages(rough, data.facets["language"], exported)
    first = fuse(centred, evidence.bm25, evidence.rare, topic, allowed, dense_weight)
    chosen = [int(r) for r in np.argsort(-first, kind="stable")[: min(candidates, int(allowed.sum()))]]
    position = np.full(data.size, -1, dtype=np.int64)
    position[page.rows] = np.arange(len(page.rows))
    exact, passage = page.exact(wide, position[chosen])
    rough[chosen] = exact  # each lesson's best estimate: exact for the candidates, from signs for the others
    centred = centre_languages(rough, data.facets["language"], exported)
    second = fuse(centred, evidence.bm25, evidence.rare, topic, allowed, dense_weight)[chosen]
    order = np.argsort(-second, kind="stable")[:top_k]
    plain_best = exact if expansion.dense_text(query) == query else page.exact(plain, position[chosen])[0]
    close = closeness(
        float(plain_best.max()) if chosen else 0.0,
        float(evidence.coverage[allowed].max()) if allowed.any() else 0.0,
        bool(topic[allowed].any()),
    )
    return PageAnswer(
        [chosen[i] for i in order],
        [float(second[i]) for i in order],
        [int(passage[i]) for i in order],
        nothing_close(close, PARAMETERS),
        chosen,
    )
