"""The ranking and nothing-close rules as pure functions (indexer/search/fusion.py), and the taxonomy expansion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from indexer.core.kb import find_root
from indexer.search import bm25, fusion
from indexer.search.expansion import expand
from tests.helpers import REPO


def _index(texts: list[str]) -> bm25.KeywordIndex:
    return bm25.build(texts)


def test_fusion_weights_dense_keyword_rare_and_topic() -> None:
    centred = np.array([0.9, 0.5, 0.1])
    kw = np.array([0.0, 4.0, 2.0])
    rare = np.array([0.0, 0.5, 0.0])
    topic = np.array([1.0, 0.0, 0.0])
    allowed = np.array([True, True, False])
    params = fusion.RankingParameters(rare_weight=0.2, topic_bonus=0.1)
    fused = fusion.fuse(centred, kw, rare, topic, allowed, 0.5, params)
    np.testing.assert_allclose(fused[:2], [0.45 + 0.1, 0.25 + 0.5 + 0.1])  # keyword scaled by the best allowed lesson
    assert fused[2] == -np.inf


def test_a_rare_exact_name_outweighs_a_vaguely_similar_lesson_but_common_words_do_not() -> None:
    texts = [f"lesson {i} about backups and the cloud and our staff" for i in range(200)] + ["we tried the quorvex appliance"]
    index = _index(texts)
    n = len(texts)
    rare_query = index.matches(bm25.question_terms("has anyone tried quorvex?"))
    evidence = fusion.keyword_evidence(rare_query, [], n)
    assert evidence.rare[-1] == 1.0 and evidence.rare[:-1].max() == 0.0  # "tried" is a question word, quorvex rare
    dense = np.full(n, 0.30)
    dense[5] = 0.40  # a vaguely similar lesson by meaning
    fused = fusion.fuse(dense, evidence.bm25, evidence.rare, np.zeros(n), np.ones(n, bool), fusion.PARAMETERS.dense_weight)
    assert int(np.argmax(fused)) == n - 1
    common = fusion.keyword_evidence(index.matches(bm25.question_terms("backups cloud staff")), [], n)
    assert common.rare.max() == 0.0  # words in most lessons are never rare


def test_language_centring_compares_each_language_on_its_own_level() -> None:
    dense = np.array([0.55, 0.50, 0.52, 0.30, 0.10, 0.12])
    languages = ["es", "es", "es", "en", "en", "en"]
    centred = fusion.centre_languages(dense, languages, np.ones(6, bool))
    assert int(np.argmax(centred)) == 3  # the English lesson that stands out from its language wins
    np.testing.assert_allclose(centred.mean(), dense.mean())


def test_nothing_close_weighs_meaning_keywords_and_a_named_topic() -> None:
    assert not fusion.nothing_close(fusion.closeness(0.55, 0.45, False))
    assert fusion.nothing_close(fusion.closeness(0.35, 0.3, False))
    assert fusion.nothing_close(fusion.closeness(0.3, 0.0, True))  # a named topic alone is not enough
    texts = [f"lesson {i} about delivery routes" for i in range(20)]
    index = bm25.build(texts)
    evidence = fusion.keyword_evidence(index.matches(bm25.question_terms("drone delivery")), [], len(texts))
    assert evidence.coverage.max() < 0.5  # "drone" is asked and no lesson has it


def test_ranking_parameters_are_json_data_with_every_number() -> None:
    params = fusion.ranking_parameters()
    assert json.loads(json.dumps(params)) == params
    for key in ("dense_weight", "rare_weight", "rare_share", "language_centering", "topic_bonus", "close_threshold", "bm25_k1"):
        assert isinstance(params[key], float | int)


def test_expansion_bridges_spanish_and_english_through_the_taxonomy() -> None:
    taxonomy = find_root(explicit=Path(REPO)).taxonomy
    spanish = expand("¿cuánto se tarda en recuperar las copias de seguridad?", taxonomy)
    assert ("technologies", "backup") in spanish.entries and "backup" in spanish.terms
    assert spanish.dense_text("copias") == "copias (Backups)"
    english = expand("how long does a backup restore take", taxonomy)
    assert "copias" in english.terms
    assert expand("any other ideas", taxonomy).entries == ()  # "other" names no topic
    assert expand("drone delivery", taxonomy).entries == ()
