"""Measuring search quality on a knowledge base's own judgements: reading queries and qrels, and the metrics."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import UsageError


@dataclass
class EvalResult:
    """Retrieval quality over a query set (queries without any relevant lesson are skipped)."""

    queries: int
    ndcg_at_10: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(rankings: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> EvalResult:
    """nDCG@10 (linear gains), Recall@5, Recall@10 and MRR@10 of `rankings` (query id -> lesson ids, best first)."""
    ndcg, r5, r10, mrr, n = 0.0, 0.0, 0.0, 0.0, 0
    for qid, judged in qrels.items():
        relevant = {doc: g for doc, g in judged.items() if g > 0}
        if not relevant:
            continue
        n += 1
        ranked = rankings.get(qid, [])[:10]
        dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked))
        ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(relevant.values(), reverse=True)[:10]))
        ndcg += dcg / ideal
        r5 += len(set(ranked[:5]) & relevant.keys()) / len(relevant)
        r10 += len(set(ranked) & relevant.keys()) / len(relevant)
        mrr += next((1.0 / (i + 1) for i, doc in enumerate(ranked) if doc in relevant), 0.0)
    if n == 0:
        raise UsageError("the qrels name no relevant lesson for any query; nothing to evaluate")
    return EvalResult(n, round(ndcg / n, 4), round(r5 / n, 4), round(r10 / n, 4), round(mrr / n, 4))


def read_queries(lines: Iterable[str], name: str) -> list[tuple[str, str]]:
    """(id, text) pairs from JSON lines {"id": ..., "text": ...}; `name` is the file's name for messages."""
    queries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            qid, text = item["id"], item["text"]
        except (ValueError, KeyError, TypeError):
            raise UsageError(f"{name}:{number}: expected a JSON object with 'id' and 'text'") from None
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f"{name}:{number}: the query text is empty")
        queries.append((str(qid), text))
    if not queries:
        raise UsageError(f"{name}: no queries found")
    return queries


def read_qrels(lines: Iterable[str], name: str) -> dict[str, dict[str, int]]:
    """Judgements from tab-separated lines: query id, lesson id, grade (0 = not relevant); a header line is allowed."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(lines, 1):
        parts = line.rstrip("\n").split("\t")
        if not line.strip():
            continue
        try:
            qid, doc, grade = parts[0], parts[1], int(float(parts[2]))
        except (IndexError, ValueError):
            if number == 1:
                continue  # a header line
            raise UsageError(f"{name}:{number}: expected 'query id<TAB>lesson id<TAB>grade'") from None
        qrels.setdefault(qid, {})[doc] = grade
    return qrels
