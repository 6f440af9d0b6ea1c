"""What the website's search page needs to answer in the visitor's browser, made from the index.

The page ranks as `rank.search` does, from data exported here: the published lessons' passage vectors as
signs for a first pass and as int8 in small shards for re-ranking the first pass's candidates (search/page.py,
the reference of the page's ranking), their keyword postings with the corpus statistics BM25 needs, the
cards' fields, and every number of the ranking (`ranking.json`). Python stays the one definition: the page
reads the numbers, and a test keeps the two equal. The model itself goes to the page as a weight-only int8 copy
of the ONNX export (quantise.py), its graph optimised ahead of time and its weights packed (page_model.py),
made once and kept beside the export in the model cache.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import write_atomic
from ..core.taxonomy import Taxonomy
from ..core.vocabulary import HIDDEN_STATUSES, OUTCOME_LABELS, SIZE_LABELS
from ..errors import ModelError
from . import bm25, expansion, fusion, page, page_model
from .quantise import VERSION as MODEL_RECIPE
from .quantise import weight_only_int8
from .store import IndexData

FORMAT = 4  # bump when the files below change shape; the page refuses another format
INT8_MODEL = f"model.int8-weights-v{MODEL_RECIPE}.onnx"  # named after its recipe, so an older copy is never reused
CARD_FIELDS = ("title", "summary", "outcome", "sector", "company_size", "country", "language", "technologies", "date")


def ensure_int8(folder: Path) -> Path:
    """The weight-only int8 copy of `folder`/model.onnx, made once and kept beside it."""
    target = folder / INT8_MODEL
    if not target.is_file():
        try:
            weight_only_int8(folder / "model.onnx", target)  # atomic: another build may make the same bytes meanwhile
        except OSError as exc:
            raise ModelError(f"{target}: the website's copy of the model could not be written ({exc.strerror or exc})") from exc
    return target


def ensure_page_model(folder: Path) -> page_model.PageModel:
    """The page's model (page_model.py) for the export in `folder`, made once and kept beside it. The folder's name
    carries both recipes and onnxruntime's version, whose optimiser writes the graph."""
    import onnxruntime

    cached = folder / f"page-model-v{MODEL_RECIPE}.{page_model.RECIPE}-ort{onnxruntime.__version__}"
    graph_file, weights_file = cached / "model.onnx", cached / page_model.WEIGHTS_NAME
    try:
        graph, weights = graph_file.read_bytes(), weights_file.read_bytes()
        if page_model.graph_of(weights) == hashlib.sha256(graph).hexdigest():
            return page_model.PageModel(graph, weights)
    except OSError:  # not made yet: make it
        pass
    made = page_model.pack(*page_model.optimise(ensure_int8(folder)))
    try:
        cached.mkdir(parents=True, exist_ok=True)
        write_atomic(weights_file, made.weights)  # each file atomic; a reader checks that the pair belongs together
        write_atomic(graph_file, made.graph)
    except OSError:  # a full or read-only cache: the site still gets the model, made again next time
        return made
    for older in folder.glob("page-model-*"):  # an earlier recipe's or onnxruntime's copy: 23 MB each
        if older != cached:
            shutil.rmtree(older, ignore_errors=True)
    return made


def ranking_parameters(
    info: dict[str, Any], tokenizer: Any, dense_weight: float, model: page_model.PageModel, taxonomy: Taxonomy
) -> dict[str, Any]:
    """Every number and word list the page's ranking (search/fusion.py) and tokenisation use, as Python uses them;
    `model` is the model the page runs, whose hash lets the browser keep it cached until it changes."""
    specials = list(tokenizer.encode("").ids)  # [CLS] [SEP] for the BERT-style models the export accepts
    return {
        "format": FORMAT,
        "dense_weight": dense_weight,  # lessons.toml's, which overrides fusion's default
        "fusion": fusion.ranking_parameters(),
        "bm25": {
            "min_length": 2,
            "stop_words": sorted(bm25.STOP_WORDS),
            "question_words": sorted(bm25.QUESTION_WORDS),
        },
        "expansion": taxonomy_entries(taxonomy),
        "model": {
            "name": info["model"],
            "dimension": info["dimension"],
            "max_tokens": info["max_seq_length"],
            "lower_case": info.get("do_lower_case", False),
            "prefix_ids": specials[:1],
            "suffix_ids": specials[1:],
            "files_sha256": hashlib.sha256(model.graph + model.weights).hexdigest(),
            "weights_name": page_model.WEIGHTS_NAME,
        },
        "page": {"candidates": page.CANDIDATES, "lesson_shard": page.VECTOR_SHARD},
    }


def taxonomy_entries(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """What `expansion.expand` matches in a question, per taxonomy entry (`expansion.Vocabulary`)."""
    return list(expansion.Vocabulary.of(taxonomy).entries)


def browser_files(data: IndexData, shown: set[str], taxonomy: Taxonomy, ranking: dict[str, Any]) -> dict[str, bytes]:
    """The page's data files, by path inside the site's search data folder, for the lessons in `shown`: see
    docs/how-search-works.md for what each holds and when the page fetches it."""
    rows = [r for r, lesson_id in enumerate(data.ids) if lesson_id in shown and data.facets["status"][r] not in HIDDEN_STATUSES]
    passages = _passages_of(data, rows)
    counts = [int(n) for n in np.bincount(data.passage_lesson[passages], minlength=data.size)[rows]]
    matrix = np.asarray(data.vector_matrix()[passages], dtype=np.float32)
    vectors = page.PageVectors.of(matrix, rows, counts)
    centroids = np.zeros((len(rows), matrix.shape[1]), dtype=np.float64)
    np.add.at(centroids, np.repeat(np.arange(len(rows)), counts), matrix)
    centroids /= np.maximum(np.asarray(counts, dtype=np.float64), 1.0)[:, None]  # means: a long lesson weighs as a short one
    shards = page.shard_lessons(centroids, int(ranking["page"]["lesson_shard"]))
    lessons = {
        "format": FORMAT,
        "lessons": [_card(data, r) for r in rows],
        "passage_counts": counts,
        "shards": shards.tolist(),
        "labels": _labels(taxonomy),
    }
    terms, postings = _keyword(data, rows)
    files = {
        "ranking.json": _json(ranking),
        "lessons.json": _json(lessons),
        "signs.bin": vectors.bit_scales.astype("<f4").tobytes() + vectors.bits.tobytes(),
        "keyword.json": _json(terms),
        "keyword.bin": postings,
    }
    starts = np.r_[0, np.cumsum(counts)]
    for shard in range(int(shards.max()) + 1 if len(rows) else 0):  # each shard's lessons in lesson order
        where = np.concatenate([np.arange(starts[m], starts[m + 1]) for m in np.flatnonzero(shards == shard)])
        files[f"vectors-{shard}.bin"] = vectors.scales[where].astype("<f4").tobytes() + vectors.values[where].tobytes()
        files[f"passages-{shard}.json"] = _json([[data.section(int(p)), data.passage(int(p))] for p in passages[where]])
    return files


def _passages_of(data: IndexData, rows: list[int]) -> np.ndarray:
    bounds = np.searchsorted(data.passage_lesson, np.arange(data.size + 1))
    parts = [np.arange(bounds[r], bounds[r + 1]) for r in rows]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _card(data: IndexData, row: int) -> dict[str, Any]:
    record = data.record(row)
    card = {"id": record["id"]} | {name: record.get(name) for name in CARD_FIELDS}
    card["technologies"] = list(card["technologies"] or [])
    return card


def _labels(taxonomy: Taxonomy) -> dict[str, dict[str, str]]:
    return {"sector": taxonomy.sectors, "technology": taxonomy.technologies, "outcome": OUTCOME_LABELS, "company_size": SIZE_LABELS}


def _keyword(data: IndexData, rows: list[int]) -> tuple[dict[str, Any], bytes]:
    """Postings of the exported lessons, with the statistics of the whole index so that BM25 scores are the CLI's:
    the terms with their document frequencies and posting counts (JSON), and the postings (binary: per term, the
    gaps between its lessons' numbers, then its term frequencies, each as an unsigned LEB128 varint).

    Hidden lessons count in the corpus statistics (as they do for the CLI) but their words are not published.
    """
    keyword = data.keyword
    position = np.full(data.size, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    terms, df, count, parts = [], [], [], []
    for term, col in keyword.vocab.items():
        lo, hi = int(keyword.indptr[col]), int(keyword.indptr[col + 1])
        docs = position[keyword.docs[lo:hi]]
        keep = docs >= 0
        if keep.any():
            order = np.argsort(docs[keep], kind="stable")
            numbers, tfs = docs[keep][order], keyword.tfs[lo:hi][keep][order].astype(np.int64)
            terms.append(term)
            df.append(hi - lo)
            count.append(len(numbers))
            parts.append(np.concatenate([np.diff(numbers, prepend=0), tfs]))
    stats = {
        "lessons": keyword.size,
        "average_length": float(keyword.doc_len.mean()) if keyword.size else 1.0,
        "lengths": keyword.doc_len[rows].astype(int).tolist(),
        "terms": terms,
        "df": df,
        "counts": count,
    }
    return stats, _varints(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))


def _varints(values: np.ndarray) -> bytes:
    """Non-negative integers as unsigned LEB128: seven bits a byte, low bits first, high bit set on all but the last."""
    values = values.astype(np.uint64)
    width = np.ones(len(values), dtype=np.int64)
    for shift in (7, 14, 21, 28, 35):
        width += values >= (1 << shift)
    out = np.zeros(int(width.sum()), dtype=np.uint8)
    place = np.cumsum(width) - width
    for byte in range(int(width.max()) if len(values) else 0):
        has = width > byte
        more = width[has] > byte + 1
        out[place[has] + byte] = ((values[has] >> np.uint64(7 * byte)) & np.uint64(0x7F)).astype(np.uint8) | (more * 0x80).astype(np.uint8)
    return out.tobytes()


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
