"""The search page's ranking (indexer/web/search_js/rank.js, run by Node) against its Python reference (search/page.py)
on the files search/export.py writes: same words, same BM25, same two stages of meaning, fusion, filters and order.
tests/slow/test_search_page.py holds the reference against rank.py, the CLI's ranking, with the real model."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from indexer.core.kb import find_root
from indexer.search import export, page, page_model, rank, store
from indexer.search.bm25 import question_terms
from indexer.search.expansion import expand
from indexer.search.fusion import ranking_parameters
from tests.helpers import REPO, FakeEmbedder

RANK_JS = REPO / "indexer" / "web" / "search_js" / "rank.js"
# Runs rank.js on a JSON request from stdin: {"ranking", "lessons", "terms", "files" (base64), "cases"}.
DRIVER = """
import { addShard, allowedMask, denseText, expand, firstStage, keywordIndex, questionTerms, roughScores, secondStage,
  vectorIndex } from "RANK_JS";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { ranking, lessons, terms, files, cases } = JSON.parse(input);
const bytes = (name) => new Uint8Array(Buffer.from(files[name], "base64")).buffer;
const data = { ranking, lessons, keyword: keywordIndex(terms, new Uint8Array(bytes("keyword.bin"))) };
const vectors = vectorIndex(bytes("signs.bin"), lessons.passage_counts, ranking.model.dimension, lessons.shards);
for (let k = 0; files[`vectors-${k}.bin`]; k++) addShard(vectors, k, bytes(`vectors-${k}.bin`));
const answers = cases.map(({ query, plain, wide, filters, k }) => {
  const allowed = allowedMask(lessons.lessons, filters);
  const stage = firstStage(query, data, allowed, roughScores(wide, vectors), k);
  const result = secondStage(stage, data, allowed, k, plain, wide, vectors);
  const wideText = denseText(query, expand(query, ranking.expansion, ranking.bm25));
  const ids = result.rows.map((row) => lessons.lessons[row].id);
  return { ids, scores: result.scores, passages: result.passages, nothingClose: result.nothingClose, wideText,
    terms: questionTerms(query, ranking.bm25), candidates: stage.candidates.length };
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


def _exported(data: store.IndexData, kb: Path, page_numbers: dict | None = None) -> tuple[dict, dict[str, bytes]]:
    info = {"model": "fake", "dimension": FakeEmbedder.dimension, "max_seq_length": 256}
    model = page_model.PageModel(b"graph bytes", b"weights bytes")
    ranking = export.ranking_parameters(info, _Tokenizer(), 0.9, model, find_root(explicit=kb).taxonomy)
    ranking["page"] |= page_numbers or {}
    shown = {i for i, status in zip(data.ids, data.facets["status"]) if status == "published"}
    return ranking, export.browser_files(data, shown, find_root(explicit=kb).taxonomy, ranking)


def _page_vectors(data: store.IndexData, ranking: dict, files: dict[str, bytes]) -> page.PageVectors:
    lessons = json.loads(files["lessons.json"])
    rows = [data.row_of(card["id"]) for card in lessons["lessons"]]
    return page.PageVectors.read(files, rows, lessons["passage_counts"], FakeEmbedder.dimension, lessons["shards"])


def _run_js(request: dict) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is missing: scripts/setup needs Node 20 for the website's search page")
    script = DRIVER.replace("RANK_JS", RANK_JS.as_uri())
    proc = subprocess.run(
        [node, "--input-type=module", "-e", script], input=json.dumps(request), capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)


@pytest.mark.parametrize("interleaved", [False, True], ids=["by-meaning", "interleaved"])
def test_page_ranks_as_its_python_reference(data: store.IndexData, kb: Path, interleaved: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # two candidates of four lessons and shards of three: both stages, and two vector files, are exercised; and
    # once with shards that hold lessons out of order (0 and 2, 1 and 3), as grouping by meaning may
    if interleaved:
        monkeypatch.setattr(page, "shard_lessons", lambda centroids, size: np.arange(len(centroids)) % 2)
    ranking, files = _exported(data, kb, {"candidates": 2, "lesson_shard": 3})
    lessons = json.loads(files["lessons.json"])
    assert [card["id"] for card in lessons["lessons"]] == ["backup-one", "erp-failure", "erp-success", "voip-one"]  # no draft
    assert "vectors-1.bin" in files and "passages-1.json" in files and "vectors-2.bin" not in files
    vectors = _page_vectors(data, ranking, files)
    embedder, taxonomy = FakeEmbedder(), find_root(explicit=kb).taxonomy
    cases, expected = [], []
    for query in QUERIES:
        wide = expand(query, taxonomy).dense_text(query)
        plain_vector, wide_vector = embedder.encode([query, wide])
        for py_filters, js_facets in [*FILTERS, (rank.Filters(since=dt.date.fromisoformat(SINCE)), {})]:
            filters = {"facets": js_facets, "since": SINCE[:4] if py_filters.since else ""}
            cases.append({"query": query, "plain": plain_vector.tolist(), "wide": wide_vector.tolist(), "filters": filters, "k": 3})
            allowed = rank.allowed_lessons(data, py_filters)
            found = page.answer(data, vectors, query, (plain_vector, wide_vector), allowed, 3, 0.9, taxonomy, candidates=2)
            expected.append((found, query, wide))
    encoded = {name: base64.b64encode(content).decode() for name, content in files.items() if name.endswith(".bin")}
    request = {"ranking": ranking, "lessons": lessons, "terms": json.loads(files["keyword.json"]), "files": encoded, "cases": cases}
    answers = _run_js(request)
    assert any(a["wideText"] != q for a, (_, q, _) in zip(answers, expected))  # some question names a technology
    assert {a["nothingClose"] for a in answers} == {True, False} and {a["candidates"] for a in answers} >= {1, 2}
    for answer, (found, query, wide) in zip(answers, expected):
        assert answer["ids"] == [data.ids[row] for row in found.rows], query
        assert np.allclose(answer["scores"], found.scores, atol=1e-9), query
        assert answer["passages"] == found.passages and answer["nothingClose"] == found.nothing_close, query
        assert answer["candidates"] == len(found.candidates), query  # the same lessons' shards are fetched
        assert answer["wideText"] == wide and answer["terms"] == question_terms(query), query


def test_the_page_reads_the_data_format_export_writes() -> None:
    import re

    (declared,) = re.findall(r"^export const FORMAT = (\d+);", RANK_JS.read_text(encoding="utf-8"), flags=re.M)
    assert int(declared) == export.FORMAT


def test_lessons_close_in_meaning_share_a_shard() -> None:
    rng = np.random.default_rng(3)
    topics = rng.normal(size=(2, 16))
    centroids = np.stack([topics[i % 2] + rng.normal(scale=0.1, size=16) for i in range(24)])  # topics alternate
    shards = page.shard_lessons(centroids, 4)
    assert np.bincount(shards).tolist() == [4] * 6
    assert all(len({i % 2 for i in np.flatnonzero(shards == k)}) == 1 for k in range(6))  # one topic a shard
    assert np.array_equal(shards, page.shard_lessons(centroids, 4))  # the same files on every build
    assert np.bincount(page.shard_lessons(centroids[:10], 4)).tolist() == [4, 4, 2]  # every shard full but one
    assert page.shard_lessons(centroids, 100).tolist() == [0] * 24 and page.shard_lessons(centroids[:0], 4).tolist() == []


def test_ranking_parameters_are_python_s(data: store.IndexData, kb: Path) -> None:
    ranking, files = _exported(data, kb)
    assert ranking["fusion"] == ranking_parameters() and ranking["model"]["prefix_ids"] == [101]
    assert ranking["model"]["suffix_ids"] == [102] and ranking["model"]["max_tokens"] == 256
    assert ranking["page"] == {"candidates": page.CANDIDATES, "lesson_shard": page.VECTOR_SHARD}
    vectors = _page_vectors(data, ranking, files)
    restored = vectors.values * vectors.scales[:, None]
    original = data.matrix[data.passage_lesson != data.row_of("draft-one")]
    assert np.abs(restored - original).max() <= vectors.scales.max() / 2 + 1e-6  # int8 rounding, nothing worse
    assert np.array_equal(np.unpackbits(vectors.bits, axis=1) == 1, original > 0)
    assert "draft" not in files["keyword.json"].decode() and "draft" not in files["passages-0.json"].decode()


def test_keyword_postings_are_the_index_s(data: store.IndexData, kb: Path) -> None:
    """keyword.bin holds each term's postings losslessly (varint gaps, then term frequencies)."""
    _, files = _exported(data, kb)
    terms, stream = json.loads(files["keyword.json"]), files["keyword.bin"]
    numbers, value, shift = [], 0, 0
    for byte in stream:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            numbers.append(value)
            value = shift = 0
    at = 0
    rows = [data.row_of(card["id"]) for card in json.loads(files["lessons.json"])["lessons"]]
    for term, df, count in zip(terms["terms"], terms["df"], terms["counts"]):
        gaps, tfs = numbers[at : at + count], numbers[at + count : at + 2 * count]
        at += 2 * count
        index = data.keyword
        lo, hi = index.indptr[index.vocab[term]], index.indptr[index.vocab[term] + 1]
        kept = sorted((rows.index(int(d)), int(t)) for d, t in zip(index.docs[lo:hi], index.tfs[lo:hi]) if int(d) in rows)
        assert df == hi - lo and list(np.cumsum(gaps)) == [k for k, _ in kept] and tfs == [t for _, t in kept], term
    assert at == len(numbers)
