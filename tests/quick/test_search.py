"""Ranking, filters, snippets and evaluation (library level, fake embedder)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from indexer.core.kb import find_root
from indexer.errors import UsageError
from indexer.search import rank, store
from indexer.search.evaluate import evaluate
from indexer.search.rank import Filters
from tests.helpers import FakeEmbedder


def _ids(hits: list[rank.SearchHit]) -> list[str]:
    return [h.id for h in hits]


def test_one_result_per_lesson_best_first(data: store.IndexData) -> None:
    [hits] = rank.search(data, FakeEmbedder(), ["cloud erp"], top_k=10)
    assert len(_ids(hits)) == len(set(_ids(hits)))
    assert set(_ids(hits)[:2]) == {"erp-success", "erp-failure"}
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_drafts_and_retracted_are_not_returned(data: store.IndexData) -> None:
    [hits] = rank.search(data, FakeEmbedder(), ["cloud erp draft"], top_k=10)
    assert "draft-one" not in _ids(hits) and len(hits) == 4


def test_filters_apply_before_the_cut(data: store.IndexData) -> None:
    # voip is the least relevant lesson for this query, yet a filter on it must still return it
    [hits] = rank.search(data, FakeEmbedder(), ["cloud erp migration"], Filters(outcomes=("abandoned",)), top_k=1)
    assert _ids(hits) == ["voip-one"]
    [hits] = rank.search(data, FakeEmbedder(), ["cloud erp"], Filters(sectors=("manufacturing",), since=dt.date(2022, 1, 1)), top_k=5)
    assert _ids(hits) == ["erp-success"]
    [hits] = rank.search(data, FakeEmbedder(), ["x"], Filters(technologies=("backup", "voip")), top_k=5)
    assert set(_ids(hits)) == {"backup-one", "voip-one"}
    [hits] = rank.search(data, FakeEmbedder(), ["x"], Filters(countries=("es",)), top_k=5)
    assert _ids(hits) == ["erp-success"]


def test_snippet_comes_from_the_best_passage_with_highlights(data: store.IndexData) -> None:
    [hits] = rank.search(data, FakeEmbedder(), ["ransomware restore"], top_k=1)
    hit = hits[0]
    assert hit.id == "backup-one" and hit.section in {"Summary", "Context", "What we did", "What happened", "Lessons learned"}
    words = {hit.snippet[a:b].lower() for a, b in hit.highlights}
    assert words and words <= {"ransomware", "restore"}


def test_json_schema_is_stable(data: store.IndexData) -> None:
    [hits] = rank.search(data, FakeEmbedder(), ["voip"], top_k=1)
    keys = set(hits[0].to_dict())
    assert keys == {
        "rank",
        "id",
        "title",
        "path",
        "score",
        "outcome",
        "sector",
        "company_size",
        "country",
        "language",
        "technologies",
        "date",
        "summary",
        "snippet",
        "section",
        "dense_score",
        "keyword_score",
        "metadata",
    }


def test_unknown_filter_values_list_valid_ones(data: store.IndexData, kb: Path) -> None:
    taxonomy = find_root(explicit=kb).taxonomy
    with pytest.raises(UsageError, match="unknown outcome 'sucess'; valid values: abandoned, failure, ongoing, partial, success"):
        rank.validate_filters(Filters(outcomes=("sucess",)), taxonomy, data)
    with pytest.raises(UsageError, match="unknown sector 'bakery'"):
        rank.validate_filters(Filters(sectors=("bakery",)), taxonomy, data)
    with pytest.raises(UsageError, match="unknown country 'XX'"):
        rank.validate_filters(Filters(countries=("xx",)), taxonomy, data)


def test_evaluation_metrics_by_hand() -> None:
    qrels = {"q1": {"a": 2, "b": 1, "z": 0}, "q2": {"c": 1}, "q3": {"x": 0}}
    rankings = {"q1": ["b", "x", "a"], "q2": ["y"] * 5 + ["c"]}
    result = evaluate(rankings, qrels)
    ideal = 2 + 1 / np.log2(3)
    ndcg_q1 = (1 + 2 / np.log2(4)) / ideal
    ndcg_q2 = 1 / np.log2(7)  # sixth place
    assert result.queries == 2
    assert result.ndcg_at_10 == pytest.approx((ndcg_q1 + ndcg_q2) / 2, abs=1e-4)
    assert result.recall_at_5 == pytest.approx((1 + 0) / 2)
    assert result.recall_at_10 == pytest.approx((1 + 1) / 2)
    assert result.mrr_at_10 == pytest.approx((1 + 1 / 6) / 2, abs=1e-4)


def test_snippet_window_finds_the_term_far_into_a_passage() -> None:
    text = "word " * 200 + "the ransomware struck on Sunday " + "tail " * 50
    snippet, spans = rank.make_snippet(text, "ransomware")
    assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) <= 285
    [(a, b)] = spans
    assert snippet[a:b] == "ransomware"


def test_a_search_reads_the_taxonomy_s_words_from_a_cache_kept_with_the_taxonomy_s_state(kb: Path) -> None:
    from indexer.core.settings import load_settings
    from indexer.search.expansion import Vocabulary, expand
    from indexer.search.session import VOCABULARY_FILE, open_session

    session = open_session(find_root(explicit=kb), load_settings(kb))
    assert session.vocabulary == Vocabulary.of(find_root(explicit=kb).taxonomy)
    cache = kb / ".lessons" / VOCABULARY_FILE
    assert json.loads(cache.read_text())["entries"]
    taxonomy = kb / "lessons" / "taxonomy.yml"
    taxonomy.write_text(taxonomy.read_text().replace('"rutas de reparto"', '"rutas de reparto", "reparto con drones"'))
    again = open_session(find_root(explicit=kb), load_settings(kb)).vocabulary  # the taxonomy changed: read again
    assert ("technologies", "route-planning") in expand("reparto con drones", again).entries
    for damaged in ('{"taxonomy_stat": "broken"', "[1, 2]", '"text"', '{"taxonomy_stat": null, "entries": [{}]}'):
        cache.write_text(damaged)  # a damaged cache is made again, never an error
        assert open_session(find_root(explicit=kb), load_settings(kb)).vocabulary == again, damaged
