"""Benchmark: indexing and cold-search speed on a generated 10,000-lesson knowledge base.

Reports, all measured in this run on this machine:
- indexing time and passages per second, and ONNX versus plain sentence-transformers encoding of the
  same passages (throughput ratio);
- cold `lessons search` (a new process each time, warm disk cache): median of several runs, against a
  script that answers the same query with sentence-transformers and the same FAISS index (target:
  median <= 0.8 s and >= 10 times faster);
- re-indexing after editing one lesson (target <= 3 s);
- peak memory (max RSS) of a search;
- what verifying the model export and the index costs: hashing every file (what `lessons index` does, and a
  reader after a file's fingerprint moved) against the fingerprint check a search does otherwise.
- with `--baseline DIR` (a checkout of another version, such as main), cold search and re-index after one edit
  timed with that version's code on the same knowledge base in the same run, and the ratios.

The generated lessons recombine sections of the starter corpus and share their starter lesson's title,
so identical passages repeat and are embedded once (the indexer's deduplication); the report says how
many distinct passages were embedded.

    python bench/search_speed.py [--count 10000] [--runs 7] [--baseline ../main] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import make_knowledge_base  # noqa: E402

QUERY = "our backups were encrypted by ransomware, how long did the restore take?"

ST_SCRIPT = r"""
import json, os, sys
os.environ["HF_HUB_OFFLINE"] = "1"
import faiss
from sentence_transformers import SentenceTransformer
from indexer.search.embedding import bundled_model_dir
root = sys.argv[1]
index_dir = os.path.join(root, ".lessons", "index")
gen = open(os.path.join(index_dir, "CURRENT")).read().strip()
model = SentenceTransformer(str(bundled_model_dir()), device="cpu")
vector = model.encode([sys.argv[2]], normalize_embeddings=True)
index = faiss.read_index(os.path.join(index_dir, gen, "lessons.faiss"))
ids = json.load(open(os.path.join(index_dir, gen, "facets.json")))["id"]
scores, rows = index.search(vector, 5)
print([ids[r] for r in rows[0]])
"""


def timed(cmd: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=cwd)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed, proc


def peak_rss_mb(cmd: list[str], env: dict[str, str]) -> float:
    wrapper = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, capture_output=True, text=True, check=True, cwd=REPO)
    return int(out.stdout.strip()) / 1024


def encoding_throughput(root: Path, cache: Path, sample: int) -> dict[str, float]:
    """ONNX (what the indexer uses) versus plain sentence-transformers on the same distinct passages, in this process."""
    from indexer.core.check import check_knowledge_base
    from indexer.core.kb import find_root
    from indexer.search import embedding
    from indexer.search.passages import lesson_passages

    kb = find_root(explicit=root)
    files = kb.lesson_files()[:400]
    texts = list(
        dict.fromkeys(p.embed_text for lesson in check_knowledge_base(kb, files).lessons for p in lesson_passages(lesson, kb.taxonomy))
    )[:sample]
    source = embedding.resolve_model("bundled")
    onnx = embedding.OnnxEmbedder(embedding.ensure_onnx(source, cache))
    start = time.perf_counter()
    onnx.encode(texts)
    onnx_rate = len(texts) / (time.perf_counter() - start)
    import_start = time.perf_counter()
    model = embedding.load_sentence_transformer(source)
    st_load = time.perf_counter() - import_start
    start = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True)
    st_rate = len(texts) / (time.perf_counter() - start)
    words = statistics.mean(len(t.split()) for t in texts)
    return {"passages": len(texts), "mean_words": words, "onnx_per_s": onnx_rate, "st_per_s": st_rate, "st_import_and_load_s": st_load}


def verification_cost(root: Path, cache: Path) -> dict[str, float]:
    """Seconds to verify the model export and the index: full hashing against the fingerprint shortcut (median of 3)."""
    from indexer.search import embedding, integrity, store

    folder = embedding.export_dir(cache, embedding.bundled_source())
    generation = store.current_generation(store.index_root(root / ".lessons"))
    manifest = store.read_manifest(generation)

    def full_model() -> None:
        (folder / integrity.STAMP).unlink(missing_ok=True)
        assert embedding.export_problem(folder) is None

    def median(action: Any) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return {
        "model_full": median(full_model),
        "model_stamp": median(lambda: embedding.export_problem(folder)),
        "index_full": median(lambda: integrity.inspect(generation, manifest, full=True)),
        "index_stamp": median(lambda: integrity.inspect(generation, manifest, full=False)),
        "index_mb": sum(p.stat().st_size for p in generation.iterdir()) / 1e6,
    }


def compare(baseline: Path, lessons: list[str], root: Path, env: dict[str, str], runs: int) -> None:
    """This version against `baseline` in this run, their runs interleaved so that the load of the machine weighs on
    both alike: medians of cold searches and of re-indexes after one edit. Each version runs with its own Python
    (the baseline's `.venv` when it has one) on its own copy of the knowledge base, because index formats differ
    between versions, and each copy gets the same edits."""
    import shutil

    base_root = root.with_name(root.name + "-baseline")
    if not (base_root / "lessons").is_dir():
        shutil.copytree(root / "lessons", base_root / "lessons")
        for name in ("lessons.toml",):
            if (root / name).is_file():
                shutil.copy(root / name, base_root / name)
    python = baseline / ".venv" / "bin" / "python"
    base_lessons = [str(python) if python.is_file() else lessons[0], "-m", "indexer", "--root", str(base_root)]
    versions = {"baseline": (baseline.resolve(), base_lessons, base_root), "this version": (REPO, lessons, root)}
    for cwd, command, _ in versions.values():
        timed([*command, "index"], env, cwd)  # the index as each version writes it
    cold: dict[str, list[float]] = {name: [] for name in versions}
    edits: dict[str, list[float]] = {name: [] for name in versions}
    for i in range(runs):
        for name, (cwd, command, kb_root) in versions.items():
            cold[name].append(timed([*command, "search", QUERY, "-k", "5"], env, cwd)[0])
            files = sorted((kb_root / "lessons").glob("*.md"))
            path = files[(i * 997 + 1) % len(files)]
            path.write_text(path.read_text() + f"\nA note added in benchmark edit {i}.\n")
            edits[name].append(timed([*command, "index", "--json"], env, cwd)[0])
    for label, figures in (("cold search", cold), ("re-index after one edit", edits)):
        mine, base = statistics.median(figures["this version"]), statistics.median(figures["baseline"])
        print(f"{label}: this version {mine:.2f} s, baseline {base:.2f} s ({baseline}), median of {runs} -> ratio {mine / base:.2f}")
    print(f"load average after the comparison: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sample", type=int, default=300, help="passages for the encoding-throughput comparison")
    parser.add_argument("--work", type=Path, help="keep the generated knowledge base here")
    parser.add_argument("--baseline", type=Path, help="a checkout of another version to compare with, in this run")
    parser.add_argument("--skip-throughput", action="store_true", help="skip the ONNX versus sentence-transformers comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        root = work / f"kb-{args.count}"
        cache = work / "models"
        env = dict(os.environ, LESSONS_CACHE_DIR=str(cache))
        lessons = [sys.executable, "-m", "indexer", "--root", str(root)]
        if not (root / "lessons").is_dir():
            make_knowledge_base(root, args.count, distinct_titles=False)
        subprocess.run([*lessons, "schema"], env=env, capture_output=True, check=True, cwd=REPO)  # warm imports

        seconds, proc = timed([*lessons, "index", "--json"], env)
        report = json.loads(proc.stdout)
        print(f"knowledge base: {report['lessons']} lessons, {report['passages']} passages")
        if not report["up_to_date"]:
            print(
                f"full index: {seconds:.1f} s wall (model export included if first run), "
                f"{report['embedded']} distinct passages embedded, {report['passages'] / seconds:.0f} passages/s overall"
            )

        if args.baseline:
            compare(args.baseline, lessons, root, env, args.runs)
        if args.skip_throughput:
            return
        enc = encoding_throughput(root, cache, args.sample)
        print(
            f"encoding {enc['passages']} distinct passages (mean {enc['mean_words']:.0f} words): ONNX {enc['onnx_per_s']:.1f}/s, "
            f"sentence-transformers {enc['st_per_s']:.1f}/s -> ratio {enc['onnx_per_s'] / enc['st_per_s']:.2f}x "
            f"(sentence-transformers import + load: {enc['st_import_and_load_s']:.1f} s more)"
        )

        cold = [timed([*lessons, "search", QUERY, "-k", "5"], env)[0] for _ in range(args.runs)]
        st_env = dict(env, PYTHONPATH=str(REPO))
        baseline = [timed([sys.executable, "-c", ST_SCRIPT, str(root), QUERY], st_env)[0] for _ in range(3)]
        med, base = statistics.median(cold), statistics.median(baseline)
        print(f"cold search: median {med:.2f} s over {args.runs} runs (min {min(cold):.2f}, max {max(cold):.2f}); target <= 0.80 s")
        print(
            f"sentence-transformers script, same query and index: median {base:.2f} s over 3 runs -> lessons search is "
            f"{base / med:.1f}x faster (target >= 10x)"
        )

        edits = []
        for i in range(3):
            path = sorted((root / "lessons").glob("*.md"))[i * 997]
            path.write_text(path.read_text() + f"\nA note added in benchmark edit {time.time_ns()}.\n")
            seconds, proc = timed([*lessons, "index", "--json"], env)
            assert json.loads(proc.stdout)["changed"] == [path.stem]
            edits.append(seconds)
        print(
            f"re-index after editing one lesson: median {statistics.median(edits):.2f} s, max {max(edits):.2f} s (3 edits); target <= 3 s"
        )

        peak = peak_rss_mb([*lessons, "search", QUERY], env)
        print(f"peak memory of one search: {peak:.0f} MB max RSS")

        cost = verification_cost(root, cache)
        print(
            f"verifying the model export: {cost['model_full']:.3f} s hashing model.onnx and tokenizer.json, "
            f"{cost['model_stamp'] * 1000:.2f} ms by fingerprint; the index ({cost['index_mb']:.0f} MB): "
            f"{cost['index_full']:.3f} s hashing every file, {cost['index_stamp'] * 1000:.2f} ms by fingerprint"
        )


if __name__ == "__main__":
    main()
