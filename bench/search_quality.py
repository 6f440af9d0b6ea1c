"""Benchmark: search quality, on data the project did not tune on and on the project's own cases.

1. The development sets in ../shared/eval-dev/ (skipped when absent): each is turned into a knowledge base with
   its own to_kb.py and indexed with the real model. Queries are split in two fixed halves by the SHA-256 of their
   id (`bench.cases.held_out`): the ranking's numbers were chosen on the *tuning* half only; the *held-out* half is
   the figure that counts. nDCG@10 (and recall, MRR) for BM25 only, dense only, reciprocal-rank fusion, the
   previous default (0.9 x best passage cosine + 0.1 x BM25 over the best BM25) and the current hybrid as
   `lessons search` runs it (`rank.answer`).
2. Invented product names written into single starter lessons (`bench.cases.PRODUCTS`): the naming lesson first
   for "has anyone tried NAME?", "NAME experiences" and "NAME".
3. The bilingual question set (bench/data/questions.jsonl) on the starter lessons: a lesson in the other language
   in the top 5, one in the same language, and `nothing_close` right for covered and uncovered topics. The rules
   were calibrated on it.
4. The same figures on the held-out question set (bench/data/questions_heldout.jsonl), written afterwards by someone
   who never saw the rules: reported, never tuned on.

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

from bench.cases import HELD_OUT_QUESTIONS, QUESTIONS, bilingual_figures, held_out, make_product_kb, product_figures  # noqa: E402
from indexer.core.kb import find_root  # noqa: E402
from indexer.core.settings import load_settings  # noqa: E402
from indexer.search.evaluate import evaluate  # noqa: E402
from indexer.search.rank import lesson_dense_scores  # noqa: E402
from indexer.search.session import SearchSession, open_session  # noqa: E402

PREVIOUS_WEIGHT = 0.9  # the default before issue 10


def _rank(scores: np.ndarray, ids: list[str], k: int = 10) -> list[str]:
    return [ids[i] for i in np.argsort(-scores, kind="stable")[:k]]


def _rrf(dense: np.ndarray, kw: np.ndarray, k: int = 60) -> np.ndarray:
    def ranks(s: np.ndarray) -> np.ndarray:
        r = np.empty(len(s))
        r[np.argsort(-s, kind="stable")] = np.arange(1, len(s) + 1)
        return r

    return 1.0 / (k + ranks(dense)) + 1.0 / (k + ranks(kw))


def _session(root: Path, cache: Path) -> SearchSession:
    return open_session(find_root(explicit=root), load_settings(root), model="bundled", cache_dir=cache, log=print)


def run_set(name: str, data_dir: Path, work: Path, cache: Path) -> dict[str, dict[str, dict]]:
    """Metrics of every system on the tuning and held-out halves of one development set."""
    kb_dir = work / name
    if not (kb_dir / "lessons").is_dir():
        subprocess.run([sys.executable, str(data_dir.parent / "to_kb.py"), str(data_dir), str(kb_dir)], check=True)
        (kb_dir / "lessons" / "taxonomy.yml").write_text((REPO / "lessons" / "taxonomy.yml").read_text())
    session = _session(kb_dir, cache)
    data, embedder = session.index, session.embedder
    queries = [json.loads(line) for line in (kb_dir / "queries.jsonl").read_text().splitlines() if line.strip()]
    qrels: dict[str, dict[str, int]] = {}
    for line in (kb_dir / "qrels.tsv").read_text().splitlines()[1:]:
        if line.strip():
            q, d, g = line.split("\t")[:3]
            qrels.setdefault(q, {})[d] = int(float(g))
    ids = data.ids
    dense, _ = lesson_dense_scores(data, embedder.encode([q["text"] for q in queries]))
    systems: dict[str, dict[str, list[str]]] = {"bm25": {}, "dense": {}, "rrf k=60": {}, f"previous ({PREVIOUS_WEIGHT})": {}}
    for qi, q in enumerate(queries):
        kw = data.keyword.scores(q["text"])
        systems["bm25"][q["id"]] = _rank(kw, ids)
        systems["dense"][q["id"]] = _rank(dense[qi], ids)
        systems["rrf k=60"][q["id"]] = _rank(_rrf(dense[qi], kw), ids)
        scaled = kw / kw.max() if kw.max() > 0 else kw
        systems[f"previous ({PREVIOUS_WEIGHT})"][q["id"]] = _rank(PREVIOUS_WEIGHT * dense[qi] + (1 - PREVIOUS_WEIGHT) * scaled, ids)
    answers = session.answer([q["text"] for q in queries], top_k=10)
    systems["hybrid (lessons search)"] = {q["id"]: [h.id for h in a.hits] for q, a in zip(queries, answers)}
    out: dict[str, dict[str, dict]] = {}
    for half, keep in (("tune", False), ("held-out", True)):
        part = {qid: judged for qid, judged in qrels.items() if held_out(qid) == keep}
        out[half] = {
            system: evaluate({q: r for q, r in rankings.items() if q in part}, part).to_dict() for system, rankings in systems.items()
        }
    return out


def print_set(name: str, results: dict[str, dict[str, dict]]) -> None:
    for half, systems in results.items():
        count = next(iter(systems.values()))["queries"]
        print(f"\n{name}, {half} half ({count} queries)")
        print(f"  {'system':<26} {'nDCG@10':>8} {'R@5':>7} {'R@10':>7} {'MRR@10':>7}")
        for system, m in systems.items():
            print(f"  {system:<26} {m['ndcg_at_10']:>8.4f} {m['recall_at_5']:>7.4f} {m['recall_at_10']:>7.4f} {m['mrr_at_10']:>7.4f}")


def own_cases(work: Path, cache: Path) -> None:
    """Product names and the bilingual question set on the starter lessons."""
    products = work / "products"
    if not products.is_dir():
        make_product_kb(products)
    print(f"\nproduct and regulation names, naming lesson first: {product_figures(_session(products, cache))}")
    starter = work / "starter"
    if not starter.is_dir():
        make_product_kb(starter, products=())
    session = _session(starter, cache)
    for title, path in (("tuning set, the rules were calibrated on it", QUESTIONS), ("held-out, not tuned on", HELD_OUT_QUESTIONS)):
        print(f"\nbilingual question set {path.relative_to(REPO)} ({title}), on the starter lessons:")
        for name, tally in bilingual_figures(session, path).items():
            print(f"  {name}: {tally}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval-dev")
    parser.add_argument("--work", type=Path, help="keep the generated knowledge bases here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        cache = Path(os.environ.get("LESSONS_CACHE_DIR") or work / "models")  # one export for every set
        own_cases(work, cache)
        if not args.eval_dir.is_dir():
            print(f"\n{args.eval_dir} not found: development-set benchmark skipped")
            return
        for data_dir in sorted(p for p in args.eval_dir.iterdir() if (p / "corpus.jsonl").is_file()):
            print_set(data_dir.name, run_set(data_dir.name, data_dir, work, cache))


if __name__ == "__main__":
    main()
