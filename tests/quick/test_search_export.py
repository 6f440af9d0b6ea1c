"""The search page's ranking (indexer/web/search_js/rank.js, run by Node) against rank.py on the same index, from the
files search/export.py writes: same words, same BM25, same fusion, filters and order."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from indexer.core.kb import find_root
from indexer.search import export, rank, store
from indexer.search.bm25 import question_terms
from indexer.search.expansion import expand
from indexer.search.fusion import ranking_parameters
from tests.helpers import REPO, FakeEmbedder

RANK_JS = REPO / "indexer" / "web" / "search_js" / "rank.js"
# Runs rank.js on a JSON request from stdin: {"ranking", "lessons", "keyword", "vectors", "cases"}.
DRIVER = """
import { allowedMask, denseScores, denseText, expand, questionTerms, rankQuestion } from "RANK_JS";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { ranking, lessons, keyword, vectors, cases } = JSON.parse(input);
const data = { ranking, lessons, keyword };
const answers = cases.map(({ query, plain, wide, filters, k }) => {
  const allowed = allowedMask(lessons.lessons, filters);
  const dense = { plain: denseScores(plain, vectors), wide: denseScores(wide, vectors) };
  const result = rankQuestion(query, data, allowed, k, dense);
  const wideText = denseText(query, expand(query, ranking.expansion, ranking.bm25));
  const ids = result.rows.map((row) => lessons.lessons[row].id);
  return { ids, scores: result.scores, nothingClose: result.nothingClose, wideText, terms: questionTerms(query, ranking.bm25) };
});
console.log(JSON.stringify(answers));
"""
QUERIES = [
    "has anyone tried a cloud ERP migration?",
    "¿Alguien ha probado copias de seguridad tras el ransomware?",
    "VoIP telephone",
    "Facturación ELECTRÓNICA",
    "straße",
    "xylophone quartets",
]
FILTERS = [
    (rank.Filters(), {}),
    (rank.Filters(sectors=("manufacturing",)), {"sector": ["manufacturing"]}),
    (rank.Filters(outcomes=("failure", "partial"), countries=("es",)), {"outcome": ["failure", "partial"], "country": ["es"]}),
    (rank.Filters(technologies=("backup",)), {"technologies": ["backup"]}),
]
SINCE = "2022-01-01"


class _Tokens:
    ids = (101, 102)


class _Tokenizer:
    def encode(self, text: str) -> _Tokens:
        return _Tokens()


def _exported(data: store.IndexData, kb: Path) -> tuple[dict, dict[str, bytes]]:
    info = {"model": "fake", "dimension": FakeEmbedder.dimension, "max_seq_length": 256}
    ranking = export.ranking_parameters(info, _Tokenizer(), 0.9, b"model bytes", find_root(explicit=kb).taxonomy)
    shown = {i for i, status in zip(data.ids, data.facets["status"]) if status == "published"}
    return ranking, export.browser_files(data, shown, find_root(explicit=kb).taxonomy, ranking)


def _run_js(request: dict) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is missing: scripts/setup needs Node 20 for the website's search page")
    script = DRIVER.replace("RANK_JS", RANK_JS.as_uri())
    proc = subprocess.run(
        [node, "--input-type=module", "-e", script], input=json.dumps(request), capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)


def test_page_ranks_as_rank_py(data: store.IndexData, kb: Path) -> None:
    ranking, files = _exported(data, kb)
    lessons = json.loads(files["lessons.json"])
    assert [card["id"] for card in lessons["lessons"]] == ["backup-one", "erp-failure", "erp-success", "voip-one"]  # no draft
    rows = [data.row_of(card["id"]) for card in lessons["lessons"]]
    passages = np.concatenate([np.nonzero(data.passage_lesson == row)[0] for row in rows])
    # the full-precision vectors, so that any difference is in the ranking logic, not in int8 rounding
    vectors = {"values": data.matrix[passages].ravel().tolist(), "scales": [1.0] * len(passages)}
    vectors |= {"counts": lessons["passage_counts"], "dimension": FakeEmbedder.dimension}
    embedder, taxonomy = FakeEmbedder(), find_root(explicit=kb).taxonomy
    cases, expected = [], []
    for query in QUERIES:
        wide = expand(query, taxonomy).dense_text(query)
        plain_vector, wide_vector = (v.tolist() for v in embedder.encode([query, wide]))
        for py_filters, js_facets in [*FILTERS, (rank.Filters(since=dt.date.fromisoformat(SINCE)), {})]:
            since = SINCE[:4] if py_filters.since else ""
            filters = {"facets": js_facets, "since": since}
            cases.append({"query": query, "plain": plain_vector, "wide": wide_vector, "filters": filters, "k": 3})
            found = rank.answer(data, embedder, [query], py_filters, top_k=3, dense_weight=0.9, taxonomy=taxonomy)[0]
            expected.append((found, query, wide))
    request = {"ranking": ranking, "lessons": lessons, "keyword": json.loads(files["keyword.json"]), "vectors": vectors, "cases": cases}
    answers = _run_js(request)
    assert any(a["wideText"] != q for a, (_, q, _) in zip(answers, expected))  # some question names a technology
    assert {a["nothingClose"] for a in answers} == {True, False}
    for answer, (found, query, wide) in zip(answers, expected):
        assert answer["ids"] == [h.id for h in found.hits], query
        assert np.allclose(answer["scores"], [h.score for h in found.hits], atol=6e-5), query  # Python rounds to 4 places
        assert answer["nothingClose"] == found.nothing_close, query
        assert answer["wideText"] == wide and answer["terms"] == question_terms(query), query


def test_ranking_parameters_are_python_s(data: store.IndexData, kb: Path) -> None:
    ranking, files = _exported(data, kb)
    assert ranking["fusion"] == ranking_parameters() and ranking["model"]["prefix_ids"] == [101]
    assert ranking["model"]["suffix_ids"] == [102] and ranking["model"]["max_tokens"] == 256
    n = sum(json.loads(files["lessons.json"])["passage_counts"])
    vectors = files["vectors.bin"]
    scales = np.frombuffer(vectors[: 4 * n], dtype="<f4")
    values = np.frombuffer(vectors[4 * n :], dtype=np.int8).reshape(n, -1).astype(np.float32)
    restored = values * scales[:, None]
    original = data.matrix[data.passage_lesson != data.row_of("draft-one")]
    assert np.abs(restored - original).max() <= scales.max() / 2 + 1e-6  # int8 rounding, nothing worse
    assert "draft" not in files["keyword.json"].decode() and "draft" not in files["passages-0.json"].decode()
