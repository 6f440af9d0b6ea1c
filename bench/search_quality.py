"""Benchmark: search quality on the development data in ../shared/eval-dev/ (skipped when absent).

For each data set: turn it into a knowledge base with the data set's own to_kb.py, index it with the
real model, then score rankings on nDCG@10, Recall@5, Recall@10 and MRR@10 for BM25 only, dense only,
plain reciprocal-rank fusion (equal weights, k = 60) and the convex fusion at a grid of dense weights.
Finally runs `lessons eval` (the command maintainers use) with the knowledge base's configured weight.

    python bench/search_quality.py [--eval-dir ../shared/eval-dev] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.core.kb import find_root  # noqa: E402
from indexer.core.settings import load_settings  # noqa: E402
from indexer.search.evaluate import evaluate  # noqa: E402
from indexer.search.rank import fuse, lesson_dense_scores  # noqa: E402
from indexer.search.session import open_session  # noqa: E402

WEIGHTS = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def _rank(scores: np.ndarray, ids: list[str], k: int = 10) -> list[str]:
    return [ids[i] for i in np.argsort(-scores, kind="stable")[:k]]


def _rrf(dense: np.ndarray, kw: np.ndarray, k: int = 60) -> np.ndarray:
    def ranks(s: np.ndarray) -> np.ndarray:
        r = np.empty(len(s))
        r[np.argsort(-s, kind="stable")] = np.arange(1, len(s) + 1)
        return r

    return 1.0 / (k + ranks(dense)) + 1.0 / (k + ranks(kw))


def run_set(name: str, data_dir: Path, work: Path, cache: Path) -> dict[str, dict]:
    kb_dir = work / name
    if not (kb_dir / "lessons").is_dir():
        subprocess.run([sys.executable, str(data_dir.parent / "to_kb.py"), str(data_dir), str(kb_dir)], check=True)
        (kb_dir / "lessons" / "taxonomy.yml").write_text((REPO / "lessons" / "taxonomy.yml").read_text())
    kb = find_root(explicit=kb_dir)
    session = open_session(kb, load_settings(kb_dir), model="bundled", cache_dir=cache, log=print)
    data, embedder = session.index, session.embedder
    queries = [json.loads(line) for line in (kb_dir / "queries.jsonl").read_text().splitlines() if line.strip()]
    qrels: dict[str, dict[str, int]] = {}
    for line in (kb_dir / "qrels.tsv").read_text().splitlines():
        if line.strip():
            q, d, g = line.split("\t")[:3]
            qrels.setdefault(q, {})[d] = int(float(g))
    ids = [rec["id"] for rec in data.lessons]
    dense, _ = lesson_dense_scores(data, embedder.encode([q["text"] for q in queries]))
    allowed = np.ones(len(ids), dtype=bool)
    systems: dict[str, dict[str, list[str]]] = {"bm25": {}, "dense": {}, "rrf-equal": {}}
    systems.update({f"convex-{w}": {} for w in WEIGHTS})
    for qi, q in enumerate(queries):
        kw = data.keyword.scores(q["text"])
        systems["bm25"][q["id"]] = _rank(kw, ids)
        systems["dense"][q["id"]] = _rank(dense[qi], ids)
        systems["rrf-equal"][q["id"]] = _rank(_rrf(dense[qi], kw), ids)
        for w in WEIGHTS:
            systems[f"convex-{w}"][q["id"]] = _rank(fuse(dense[qi], kw, allowed, w), ids)
    return {system: evaluate(rankings, qrels).to_dict() for system, rankings in systems.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval-dev")
    parser.add_argument("--work", type=Path, help="keep the generated knowledge bases here (default: a temporary folder)")
    args = parser.parse_args()
    if not args.eval_dir.is_dir():
        print(f"{args.eval_dir} not found: search-quality benchmark skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        cache = Path(os.environ.get("LESSONS_CACHE_DIR") or work / "models")  # one export for every set
        os.environ["LESSONS_CACHE_DIR"] = str(cache)  # for the `lessons eval` subprocess below
        totals: dict[str, float] = {}
        for data_dir in sorted(p for p in args.eval_dir.iterdir() if (p / "corpus.jsonl").is_file()):
            results = run_set(data_dir.name, data_dir, work, cache)
            print(f"\n{data_dir.name}")
            print(f"  {'system':<14} {'nDCG@10':>8} {'R@5':>7} {'R@10':>7} {'MRR@10':>7}")
            for system, m in results.items():
                print(f"  {system:<14} {m['ndcg_at_10']:>8.4f} {m['recall_at_5']:>7.4f} {m['recall_at_10']:>7.4f} {m['mrr_at_10']:>7.4f}")
                totals[system] = totals.get(system, 0.0) + m["ndcg_at_10"]
            configured = load_settings(REPO).dense_weight
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "indexer",
                    "--root",
                    str(work / data_dir.name),
                    "eval",
                    "--queries",
                    str(work / data_dir.name / "queries.jsonl"),
                    "--qrels",
                    str(work / data_dir.name / "qrels.tsv"),
                    "--dense-weight",
                    str(configured),
                    "--no-refresh",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            print(f"  lessons eval: {out.stdout.strip()}")
        print("\nmean nDCG@10 over the sets:")
        for system, total in sorted(totals.items(), key=lambda kv: -kv[1]):
            print(f"  {system:<14} {total / max(1, len([p for p in args.eval_dir.iterdir() if (p / 'corpus.jsonl').is_file()])):.4f}")


if __name__ == "__main__":
    main()
