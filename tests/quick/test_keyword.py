"""BM25 keyword scoring: agrees with bm25s, survives the incremental merge, folds accents."""

from __future__ import annotations

import random

import bm25s
import numpy as np
import pytest

from indexer.search import bm25


@pytest.fixture
def corpus() -> list[str]:
    rng = random.Random(3)
    words = [f"w{i}" for i in range(60)]
    return [" ".join(rng.choice(words[: rng.randint(10, 60)]) for _ in range(rng.randint(5, 80))) for _ in range(40)]


def test_scores_match_bm25s_lucene(corpus: list[str]) -> None:
    ours = bm25.build(corpus)
    reference = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    reference.index(bm25s.tokenize(corpus, stopwords=None, show_progress=False), show_progress=False)
    for query in ("w1 w7", "w3", "w10 w11 w59", "w55 w2 w2"):
        # the score of a query is the sum over its distinct terms of each term's BM25 score
        expected = sum(reference.get_scores([term]) for term in set(query.split()))
        got = ours.scores(query)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_incremental_merge_equals_a_fresh_build(corpus: list[str]) -> None:
    index = bm25.build(corpus)
    # drop document 3, add a new one at the end: the result equals a fresh build of the same texts
    row_map = np.array([i if i < 3 else (-1 if i == 3 else i - 1) for i in range(len(corpus))])
    vocab = dict(index.vocab)
    new = (len(corpus) - 1, bm25.doc_terms("w1 w1 brandnew", vocab))
    merged = bm25.merge(index, row_map, [new], vocab, len(corpus))
    fresh = bm25.build([*corpus[:3], *corpus[4:], "w1 w1 brandnew"])
    for query in ("w1", "brandnew w5", "w20 w21"):
        np.testing.assert_allclose(merged.scores(query), fresh.scores(query), rtol=1e-6)
    np.testing.assert_array_equal(merged.doc_len, fresh.doc_len)


def test_tokenizer_folds_accents_and_drops_stop_words() -> None:
    assert bm25.tokenize("La facturación electrónica, and the E-invoicing!") == ["facturacion", "electronica", "invoicing"]


def test_allowed_mask_zeroes_others(corpus: list[str]) -> None:
    index = bm25.build(corpus)
    allowed = np.zeros(len(corpus), dtype=bool)
    allowed[:5] = True
    scores = index.scores("w1 w2 w3", allowed)
    assert (scores[5:] == 0).all()
