"""What the website's search page needs to answer in the visitor's browser, made from the index.

The page ranks exactly as `rank.search` does, from data exported here: the published lessons' passage
vectors (int8, one scale per vector), their keyword postings with the corpus statistics BM25 needs, the
cards' fields, and every number of the ranking (`ranking.json`). Python stays the one definition: the page
reads the numbers, and a test keeps the two equal. The model itself goes to the page as a weight-only int8 copy
of the ONNX export (quantise.py), made once and kept beside it in the model cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.taxonomy import Taxonomy, normalise_term
from ..core.vocabulary import HIDDEN_STATUSES, OUTCOME_LABELS, SIZE_LABELS
from . import bm25, expansion, fusion
from .quantise import VERSION as MODEL_RECIPE
from .quantise import weight_only_int8
from .store import IndexData

FORMAT = 2  # bump when the files below change shape; the page refuses another format
INT8_MODEL = f"model.int8-weights-v{MODEL_RECIPE}.onnx"  # named after its recipe, so an older copy is never reused
PASSAGE_SHARD = 500  # passages per text file: the page fetches only the shards of the results it shows
CARD_FIELDS = ("title", "summary", "outcome", "sector", "company_size", "country", "language", "technologies", "date")


@dataclass(frozen=True)
class BrowserModel:
    """The files the page runs the model from: the int8 ONNX graph and the tokenizer."""

    onnx: Path
    tokenizer: Path
    info: dict[str, Any]


def ensure_int8(folder: Path) -> Path:
    """The weight-only int8 copy of `folder`/model.onnx, made once and kept beside it."""
    target = folder / INT8_MODEL
    if not target.is_file():
        weight_only_int8(folder / "model.onnx", target)  # atomic: another build may make the same bytes meanwhile
    return target


def ranking_parameters(info: dict[str, Any], tokenizer: Any, dense_weight: float, model: bytes, taxonomy: Taxonomy) -> dict[str, Any]:
    """Every number and word list the page's ranking (search/fusion.py) and tokenisation use, as Python uses them;
    `model` is the int8 model the page runs, whose hash lets the browser keep it cached until it changes."""
    import hashlib

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
            "file_sha256": hashlib.sha256(model).hexdigest(),
        },
        "passage_shard": PASSAGE_SHARD,
    }


def taxonomy_entries(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """What `expansion.expand` matches in a question, per taxonomy entry: its phrases (normalised), its keyword
    words and its default label, in the order `expand` finds them."""
    entries = []
    for section in expansion.SECTIONS:
        for slug in getattr(taxonomy, section):
            if slug == "other":  # as expansion: "other" names no topic
                continue
            terms = taxonomy.terms(section, slug)
            phrases = list(dict.fromkeys(p for p in (normalise_term(t) for t in terms) if p))
            words = [word for term in terms for word in bm25.tokenize(term)]
            entries.append(
                {"section": section, "slug": slug, "phrases": phrases, "words": words, "label": getattr(taxonomy, section).get(slug, slug)}
            )
    return entries


def quantise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 vectors with one float32 scale each (largest component -> 127); cosine is scale * (q . query)."""
    peak = np.abs(matrix).max(axis=1) if len(matrix) else np.zeros(0, dtype=np.float32)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    return np.rint(matrix / scales[:, None]).astype(np.int8), scales


def browser_files(data: IndexData, shown: set[str], taxonomy: Taxonomy, ranking: dict[str, Any]) -> dict[str, bytes]:
    """The page's data files, by path inside the site's search data folder, for the lessons in `shown`."""
    rows = [r for r, lesson_id in enumerate(data.ids) if lesson_id in shown and data.facets["status"][r] not in HIDDEN_STATUSES]
    passages = _passages_of(data, rows)
    q, scales = quantise(np.asarray(data.vector_matrix()[passages], dtype=np.float32))
    counts = [int(n) for n in np.bincount(data.passage_lesson[passages], minlength=data.size)[rows]]
    lessons = {
        "format": FORMAT,
        "lessons": [_card(data, r) for r in rows],
        "passage_counts": counts,
        "labels": _labels(taxonomy),
    }
    files = {
        "ranking.json": _json(ranking),
        "lessons.json": _json(lessons),
        "vectors.bin": scales.astype("<f4").tobytes() + q.tobytes(),
        "keyword.json": _json(_keyword(data, rows)),
    }
    for start in range(0, len(passages), PASSAGE_SHARD):
        chunk = passages[start : start + PASSAGE_SHARD]
        texts = [[data.section(int(p)), data.passage(int(p))] for p in chunk]
        files[f"passages-{start // PASSAGE_SHARD}.json"] = _json(texts)
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


def _keyword(data: IndexData, rows: list[int]) -> dict[str, Any]:
    """Postings of the exported lessons, with the statistics of the whole index so that BM25 scores are the CLI's.

    Hidden lessons count in the corpus statistics (as they do for the CLI) but their words are not published.
    """
    keyword = data.keyword
    position = np.full(data.size, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    terms: dict[str, list[Any]] = {}
    for term, col in keyword.vocab.items():
        lo, hi = int(keyword.indptr[col]), int(keyword.indptr[col + 1])
        docs = position[keyword.docs[lo:hi]]
        keep = docs >= 0
        if keep.any():
            terms[term] = [hi - lo, docs[keep].tolist(), keyword.tfs[lo:hi][keep].astype(int).tolist()]
    return {
        "lessons": keyword.size,
        "average_length": float(keyword.doc_len.mean()) if keyword.size else 1.0,
        "lengths": keyword.doc_len[rows].astype(int).tolist(),
        "terms": terms,
    }


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
