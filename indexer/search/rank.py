"""Ranking lessons for a query: dense similarity of passages fused with BM25 over whole lessons, facet filters
applied before the cut, and snippets with the query's words highlighted."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..core.taxonomy import Taxonomy
from ..core.vocabulary import COUNTRIES, HIDDEN_STATUSES, OUTCOMES, SIZES
from ..errors import UsageError
from .bm25 import question_terms, tokenize
from .expansion import Expansion, Vocabulary, expand
from .fusion import PARAMETERS, centre_languages, closeness, fuse, keyword_evidence, nothing_close
from .store import IndexData

QUERY_CHUNK = 16  # queries scored at once; bounds memory of the all-passages score matrix


@dataclass(frozen=True)
class Filters:
    """Facet filters: within a facet any value matches, across facets all must match."""

    sectors: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    since: dt.date | None = None


@dataclass
class SearchHit:
    """One lesson in a result list, with its best passage as the snippet. `to_dict` is the stable JSON schema."""

    rank: int
    id: str
    title: str
    path: str
    score: float
    outcome: str
    sector: str
    company_size: str
    country: str | None
    language: str
    technologies: list[str]
    date: str
    summary: str
    snippet: str
    section: str
    dense_score: float
    keyword_score: float
    metadata: dict[str, Any] = field(default_factory=dict)
    highlights: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("highlights")
        return out


def validate_filters(filters: Filters, taxonomy: Taxonomy | None, data: IndexData) -> None:
    """Refuse filter values that cannot match anything in this knowledge base, listing the valid ones."""
    if filters == Filters():
        return
    present_tech = {t for techs in data.facets["technologies"] for t in techs}
    technologies = set(taxonomy.technologies if taxonomy else ()) | present_tech
    sectors = set(taxonomy.sectors if taxonomy else ()) | set(data.facets["sector"])
    checks = [
        ("sector", filters.sectors, sectors),
        ("technology", filters.technologies, technologies),
        ("outcome", filters.outcomes, set(OUTCOMES)),
        ("size", filters.sizes, set(SIZES)),
        ("country", tuple(c.upper() for c in filters.countries), set(COUNTRIES)),
        ("language", filters.languages, set(data.facets["language"])),
    ]
    for name, values, valid in checks:
        for value in values:
            if value not in valid:
                listing = ", ".join(sorted(valid)) if len(valid) <= 60 else "ISO 3166-1 alpha-2 codes such as ES, DE, IE"
                raise UsageError(f"unknown {name} '{value}'; valid values: {listing}")


def _column_in(data: IndexData, name: str, values: Sequence[str]) -> np.ndarray:
    wanted = set(values)
    return np.fromiter((v in wanted for v in data.facets[name]), dtype=bool, count=data.size)


def allowed_lessons(data: IndexData, filters: Filters) -> np.ndarray:
    """Boolean mask over lesson rows: published lessons that pass every filter."""
    mask = ~_column_in(data, "status", HIDDEN_STATUSES)
    for name, values in (
        ("sector", filters.sectors),
        ("outcome", filters.outcomes),
        ("company_size", filters.sizes),
        ("language", filters.languages),
        ("country", tuple(c.upper() for c in filters.countries)),
    ):
        if values:
            mask &= _column_in(data, name, values)
    if filters.technologies:
        wanted = set(filters.technologies)
        mask &= np.fromiter((not wanted.isdisjoint(t) for t in data.facets["technologies"]), dtype=bool, count=data.size)
    if filters.since is not None:
        since = filters.since.isoformat()
        mask &= np.fromiter((d >= since for d in data.facets["date"]), dtype=bool, count=data.size)
    return mask


def lesson_dense_scores(data: IndexData, query_vectors: np.ndarray, with_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each query: every lesson's best passage cosine, and the row of that passage (for the first `with_rows`
    queries only, when given: finding the rows costs more than the scores)."""
    n_less = data.size
    bounds = np.searchsorted(data.passage_lesson, np.arange(n_less + 1))
    starts, counts = bounds[:-1], np.diff(bounds)
    matrix = data.vector_matrix()
    best = np.zeros((len(query_vectors), n_less), dtype=np.float32)
    best_row = np.zeros((len(query_vectors), n_less), dtype=np.int64)
    if not len(matrix) or not n_less:
        return best, best_row
    for lo in range(0, len(query_vectors), QUERY_CHUNK):
        chunk = np.asarray(query_vectors[lo : lo + QUERY_CHUNK], dtype=np.float32)
        scores = chunk @ matrix.T  # (queries, passages): exhaustive, as FAISS's flat index would
        for q in range(len(chunk)):
            per_passage = scores[q]
            best[lo + q] = np.maximum.reduceat(per_passage, starts)
            if with_rows is not None and lo + q >= with_rows:
                continue
            # the first passage reaching its lesson's maximum is the snippet
            hit = np.nonzero(per_passage == np.repeat(best[lo + q], counts))[0]
            owner = data.passage_lesson[hit]
            first = np.r_[True, owner[1:] != owner[:-1]]
            best_row[lo + q, owner[first]] = hit[first]
    return best, best_row


@dataclass
class Answer:
    """The lessons answering one query, and whether any of them is close (`fusion.nothing_close`)."""

    hits: list[SearchHit]
    nothing_close: bool


def answer(
    data: IndexData,
    embedder: Any,
    queries: Sequence[str],
    filters: Filters = Filters(),
    top_k: int = 5,
    dense_weight: float = PARAMETERS.dense_weight,
    taxonomy: Vocabulary | Taxonomy | None = None,
) -> list[Answer]:
    """The top lessons for each query (filters applied before the cut), ranked by `fusion.fuse`; `taxonomy` gives the
    words a question can name technologies by (`expansion.Vocabulary`)."""
    allowed = allowed_lessons(data, filters)
    published = ~_column_in(data, "status", HIDDEN_STATUSES)
    expansions = [expand(query, taxonomy) for query in queries]
    wide_texts = [e.dense_text(q) for e, q in zip(expansions, queries)]
    plain_only = [q for q, wide in zip(queries, wide_texts) if q != wide]
    # one pass over the passage vectors for both: the query as typed only serves "nothing close"
    dense, best_row = lesson_dense_scores(data, embedder.encode([*wide_texts, *plain_only]), with_rows=len(wide_texts))
    plain_best = {q: float(dense[len(wide_texts) + i][allowed].max()) if allowed.any() else 0.0 for i, q in enumerate(plain_only)}
    topics = topic_rows(data, expansions)
    results = []
    for i, (query, expansion) in enumerate(zip(queries, expansions)):
        best_plain = plain_best.get(query, float(dense[i][allowed].max()) if allowed.any() else 0.0)
        topic = np.zeros(data.size)
        topic[[row for _, slug in expansion.entries for row in topics.get(slug, ())]] = 1.0
        scored = _Scored(best_plain, dense[i], best_row[i], topic, allowed, published)
        results.append(_answer_one(data, query, expansion, scored, top_k, dense_weight))
    return results


@dataclass(frozen=True)
class _Scored:
    best_plain: float  # the best passage cosine of the query as typed, over the allowed lessons
    wide: np.ndarray  # best passage cosine per lesson, query with the taxonomy's English names
    passage: np.ndarray  # the best passage's row for `wide`
    topic: np.ndarray  # 1.0 for lessons with a technology the query names
    allowed: np.ndarray
    published: np.ndarray


def _answer_one(data: IndexData, query: str, expansion: Expansion, scored: _Scored, top_k: int, dense_weight: float) -> Answer:
    allowed = scored.allowed
    evidence = keyword_evidence(data.keyword.matches(question_terms(query)), data.keyword.matches(expansion.terms), data.size)
    centred = centre_languages(scored.wide, data.facets["language"], scored.published)
    topic = scored.topic
    fused = fuse(centred, evidence.bm25, evidence.rare, topic, allowed, dense_weight)
    n = int(allowed.sum())
    kw_top = float(evidence.bm25[allowed].max()) if n else 0.0
    scale = 1.0 / kw_top if kw_top > 0 else 0.0
    hits = [
        _hit(
            data,
            query,
            rank,
            RowScores(int(row), float(fused[row]), float(scored.wide[row]), float(evidence.bm25[row]) * scale, int(scored.passage[row])),
        )
        for rank, row in enumerate(np.argsort(-fused, kind="stable")[: min(top_k, n)], 1)
    ]
    evidence_close = closeness(scored.best_plain, float(evidence.coverage[allowed].max()) if n else 0.0, bool(topic[allowed].any()))
    return Answer(hits, nothing_close(evidence_close))


def topic_rows(data: IndexData, expansions: Sequence[Expansion]) -> dict[str, list[int]]:
    """For each technology the queries name, the rows of the lessons that have it (one pass over the lessons)."""
    named = {slug for e in expansions for section, slug in e.entries if section == "technologies"}
    rows: dict[str, list[int]] = {slug: [] for slug in named}
    if named:
        for row, techs in enumerate(data.facets["technologies"]):
            if not named.isdisjoint(techs):
                for slug in named.intersection(techs):
                    rows[slug].append(row)
    return rows


def search(data: IndexData, embedder: Any, queries: Sequence[str], *args: Any, **kwargs: Any) -> list[list[SearchHit]]:
    """The top lessons for each query (filters applied before the cut); the arguments are those of `answer`."""
    return [a.hits for a in answer(data, embedder, queries, *args, **kwargs)]


_META_KEYS = (
    "tags",
    "products",
    "business_function",
    "adoption_phase",
    "cost_eur",
    "effort_person_days",
    "duration_months",
    "would_do_again",
    "status",
    "region",
    "sample",
    "superseded_by",
)


@dataclass(frozen=True)
class RowScores:
    """How one lesson row scored for a query: fused, dense and scaled keyword scores, and its best passage."""

    row: int
    score: float
    dense: float
    keyword: float
    passage: int


def _hit(data: IndexData, query: str, rank: int, scores: RowScores) -> SearchHit:
    rec = data.record(scores.row)
    passage = scores.passage
    snippet, spans = make_snippet(data.passage(passage), query)
    return SearchHit(
        rank=rank,
        id=rec["id"],
        title=rec["title"],
        path=rec["path"],
        score=round(scores.score, 4),
        outcome=rec["outcome"],
        sector=rec["sector"],
        company_size=rec["company_size"],
        country=rec.get("country"),
        language=rec["language"],
        technologies=list(rec["technologies"]),
        date=rec["date"],
        summary=rec["summary"],
        snippet=snippet,
        section=data.section(passage),
        dense_score=round(scores.dense, 4),
        keyword_score=round(scores.keyword, 4),
        metadata={k: rec.get(k) for k in _META_KEYS if rec.get(k) not in (None, [], "")},
        highlights=spans,
    )


def _fold(text: str) -> str:
    """Lower case without accents, same length as the input (one char per char) so offsets still match."""
    if text.isascii():  # most passages: nothing to strip, and lower() keeps the length (per character below is slow)
        return text.lower()
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch.casefold())
        base = "".join(c for c in base if not unicodedata.combining(c))
        out.append(base[:1] if len(base) >= 1 else ch)
    return "".join(out)


def make_snippet(text: str, query: str, width: int = 280) -> tuple[str, list[tuple[int, int]]]:
    """A window of `text` around the first query term, and the spans of query terms inside it."""
    text = re.sub(r"\s+", " ", re.sub(r"[*_`#>|]+", "", text)).strip()
    folded = _fold(text)
    terms = sorted(set(tokenize(query)), key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")\w*", re.IGNORECASE) if terms else None
    first = pattern.search(folded) if pattern else None
    start = 0
    if first and first.start() > width // 3 and len(text) > width:
        start = max(0, min(first.start() - width // 3, len(text) - width))
        start = text.find(" ", start) + 1 or start
    end = min(len(text), start + width)
    if end < len(text):
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    snippet = ("…" if start > 0 else "") + text[start:end] + ("…" if end < len(text) else "")
    offset = start - (1 if start > 0 else 0)
    spans = []
    if pattern:
        for m in pattern.finditer(folded, start, end):
            spans.append((m.start() - offset, m.end() - offset))
    return snippet, spans
