"""The ranking rule and the "nothing close" rule, as small pure functions over numbers, every number in `PARAMETERS`.

The website ports these rules to JavaScript: `ranking_parameters()` gives the numbers as JSON-ready data and
this docstring is the whole formula. For one query, over the N published lessons:

Inputs
- `dense[d]`: the best cosine similarity between the embedded query and any passage of lesson d. Two
  embeddings are used: the *plain* one of the query as typed, and the *expanded* one of
  `expansion.Expansion.dense_text` (the query followed by the English names of the taxonomy technologies it
  names, "copias de seguridad (Backups)"); without a named technology both are the same. A query names a
  technology when one of its taxonomy terms (`Taxonomy.terms`, compared by `normalise_term`) occurs in the
  query as whole words; the entry `other` names nothing.
- keyword terms (`bm25.tokenize`): the query's *own* terms (`bm25.question_terms`: distinct, without the words
  that only ask, `bm25.QUESTION_WORDS`) and the *extra* terms of the taxonomy technologies it names
  (`Expansion.terms`, which leaves out the query's own terms). For a term t: `df(t)` lessons contain it,
  `idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))`,
  `bm25(t, d) = idf(t) * tf / (tf + k1 * (1 - b + b * len(d) / mean len))` (Lucene's BM25; k1, b below).
- `mass = sum of idf(t) over own terms with df(t) >= 1`; `asked = sum of idf(t) over all own terms` (a word no
  lesson contains counts with df = 0: the question asks about something no lesson mentions).

Ranking (`fuse`)
1. `keyword[d] = sum of bm25(t, d) over own terms + expansion_weight * sum over extra terms`, divided by its
   maximum over the lessons that may be shown (filters applied; 0 when that maximum is 0).
2. `rare[d] = sum of idf(t) over own terms in d with 1 <= df(t) <= max(1, floor(rare_share * N))`, divided by
   `mass` (0 when mass is 0): the share of the question carried by words only a few lessons use (a product,
   a brand, a regulation). Common words never count.
3. `centred[d] = expanded dense[d] - language_centering * (mean of expanded dense over the published lessons
   in d's language - mean over all published lessons)`: the bundled model scores any two texts in the same
   language higher, so each language's lessons are compared on their own level.
4. `topic[d]` = 1 when lesson d has one of the taxonomy technologies the query names (`Expansion.entries`),
   else 0: the bridge between a Spanish question and an English lesson (and back) that meaning lacks.
5. `score[d] = dense_weight * centred[d] + (1 - dense_weight) * keyword[d] + rare_weight * rare[d]
   + topic_bonus * topic[d]`; highest first, ties in index order.

Nothing close (`nothing_close`), over the lessons that may be shown and without the taxonomy's help:
- `best_dense` = the best *plain* dense; `best_coverage` = the best `min(1, sum of bm25(t, d) over own terms
  / asked)`; `named` = 1 when `topic[d]` is 1 for one of those lessons, else 0;
- `evidence = best_dense + best_coverage + topic_weight * named`; no lesson is close when
  `evidence < close_threshold`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..core.settings import DEFAULT_DENSE_WEIGHT
from .bm25 import K1, B, TermMatch


@dataclass(frozen=True)
class RankingParameters:
    """Every number of the rules; measured on the tuning half of the development data and on the project's own
    question set (docs/how-search-works.md)."""

    dense_weight: float = DEFAULT_DENSE_WEIGHT  # lessons.toml [search] dense_weight overrides it
    rare_weight: float = 0.3
    rare_share: float = 0.01
    expansion_weight: float = 1.0
    language_centering: float = 1.0
    model_language: str = "en"  # the language the bundled model was trained on
    topic_bonus: float = 0.1
    topic_weight: float = 0.3
    close_threshold: float = 0.925


PARAMETERS = RankingParameters()


def ranking_parameters() -> dict[str, Any]:
    """Every number of the ranking and nothing-close rules (BM25's too), JSON-ready, for ports such as the website's."""
    return {"bm25_k1": K1, "bm25_b": B, **asdict(PARAMETERS)}


@dataclass(frozen=True)
class KeywordEvidence:
    """Per lesson: BM25 with the taxonomy's extra terms, coverage of everything the query asks by its own terms (0-1),
    and the share of the query held in rare terms (0-1)."""

    bm25: np.ndarray
    coverage: np.ndarray
    rare: np.ndarray


def keyword_evidence(
    own: Sequence[TermMatch], extra: Sequence[TermMatch], lessons: int, params: RankingParameters = PARAMETERS
) -> KeywordEvidence:
    """The keyword side of the rules from the query's own and extra term matches (`KeywordIndex.matches`)."""
    plain = np.zeros(lessons, dtype=np.float64)
    rare = np.zeros(lessons, dtype=np.float64)
    limit = max(1, int(params.rare_share * lessons))
    for m in own:
        plain[m.docs] += m.scores
        if 1 <= m.df <= limit:
            rare[m.docs] += m.idf
    bm25 = plain.copy()
    for m in extra:
        bm25[m.docs] += params.expansion_weight * m.scores
    mass = sum(m.idf for m in own if m.df > 0)
    asked = sum(m.idf for m in own)
    if mass <= 0:
        return KeywordEvidence(bm25, np.zeros(lessons), np.zeros(lessons))
    return KeywordEvidence(bm25, np.minimum(1.0, plain / asked), rare / mass)


def centre_languages(
    dense: np.ndarray, languages: Sequence[str], published: np.ndarray, params: RankingParameters = PARAMETERS
) -> np.ndarray:
    """Each lesson's dense score, moved by how far its language's mean (over published lessons) is from the overall mean."""
    if not published.any() or not params.language_centering:
        return dense
    langs = np.asarray(languages)
    overall = float(dense[published].mean())
    out = dense.astype(np.float64)
    for language in set(langs[published].tolist()):
        group = langs == language
        out[group] -= params.language_centering * (float(dense[group & published].mean()) - overall)
    return out


def fuse(
    centred: np.ndarray,
    bm25: np.ndarray,
    rare: np.ndarray,
    topic: np.ndarray,
    allowed: np.ndarray,
    dense_weight: float,
    params: RankingParameters = PARAMETERS,
) -> np.ndarray:
    """The score of every lesson (-inf for lessons that may not be shown)."""
    top = float(bm25[allowed].max()) if allowed.any() else 0.0
    keyword = bm25 / top if top > 0 else np.zeros_like(bm25)
    score = dense_weight * centred + (1.0 - dense_weight) * keyword + params.rare_weight * rare + params.topic_bonus * topic
    return np.where(allowed, score, -np.inf)


def closeness(best_dense: float, best_coverage: float, names_topic: bool, params: RankingParameters = PARAMETERS) -> float:
    """The evidence that some lesson is close: best plain cosine + best keyword coverage + a bonus for a named topic."""
    return best_dense + best_coverage + (params.topic_weight if names_topic else 0.0)


def nothing_close(evidence: float, params: RankingParameters = PARAMETERS) -> bool:
    """True when the evidence that some lesson is close is below the threshold."""
    return evidence < params.close_threshold
