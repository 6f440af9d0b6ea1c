"""Benchmark: the website's search page ("Has anyone tried this?") in headless Chromium against `lessons search`.

Builds real sites with `lessons site` and serves them on localhost, then reports:
- parity with the CLI on the starter knowledge base (the 22 questions of tests/helpers.py) and on each set of
  ../shared/eval-dev (read in place, never copied into the project): top-1 agreement, top-5 overlap, and
  nDCG@10 of both sides where the set has judgements. The CLI runs the fp32 model on fp32 vectors; the page runs
  the weight-only int8 model (fp32 arithmetic) on sign vectors, then int8 vectors for the first stage's candidates
  (search/page.py). The data side alone is measured too ("data_side"): search/page.py's ranking fed the CLI's own
  query vectors.
- time to the first semantic answer from a fresh browser profile (median of three), then on that page the time of
  eight new questions asked one after another (each fetching the shards of its candidates not fetched yet, with
  how many files) and of the same questions asked again (nothing left to fetch), and time to keyword results;
- gzipped bytes: the page before the first question (beyond Material's own assets), everything fetched up to the
  first semantic answer, and the lesson data (sign vectors, ids and cards, keyword index), file by file, with
  the int8 vector and passage text shards the first answer fetched;
- all of it again for a generated knowledge base of 5,000 lessons (bench/common.py), with the site build time.

    python bench/search_page.py [--eval-dir ../shared/eval-dev] [--sizes 5000] [--work DIR]

(from a worktree, pass the eval-dev folder explicitly: --eval-dir /path/to/shared/eval-dev)
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import make_knowledge_base  # noqa: E402
from tests.helpers import PAGE_QUERIES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ANSWERED = (
    "q => ['semantic', 'nothing-close'].includes(document.documentElement.dataset.searchState)"
    " && document.documentElement.dataset.searchQuery === q"
)
# Sets the box, fires its input event and resolves with the milliseconds until <html> shows an answer to it.
TYPE_AND_TIME = """([query, states]) => new Promise((resolve) => {
  const html = document.documentElement, box = document.querySelector("#lesson-q");
  const start = performance.now();
  const done = () => html.dataset.searchQuery === query && states.includes(html.dataset.searchState);
  new MutationObserver((_, observer) => {
    if (done()) { observer.disconnect(); resolve(performance.now() - start); }
  }).observe(html, { attributes: true });
  box.value = query;
  box.dispatchEvent(new Event("input"));
})"""
# the theme's own assets, and its keyword index (lunr), which every page of the site fetches
MATERIAL = ("assets/javascripts/", "assets/stylesheets/", "assets/images/", "search/search_index.json")
# asked one after another on the page of the first answer, at 5,000 lessons: what a visitor's next questions cost
NEW_QUESTIONS = PAGE_QUERIES[2:10]
DATA = ("ranking.json", "lessons.json", "keyword.json", "keyword.bin", "signs.bin")  # loaded before the first answer


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def lessons(root: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "indexer", "--root", str(root), *args], env=env, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        sys.exit(f"lessons {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.stdout


def with_site_files(root: Path) -> None:
    shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("generated"), dirs_exist_ok=True)
    (root / "docs" / "generated").mkdir(exist_ok=True)
    for name in ("mkdocs.yml", "lessons.toml"):
        shutil.copy(REPO / name, root / name)


def build_site(root: Path, env: dict[str, str]) -> float:
    """Index (not timed: embedding is cached by the index), then time `lessons site` as bench/site_speed.py does."""
    lessons(root, env, "index", "--wait", "3600")  # a previous run may still be indexing the large knowledge base
    start = time.perf_counter()
    lessons(root, env, "site")
    return time.perf_counter() - start


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 6))


def site_bytes(site: Path, urls: list[str]) -> int:
    """Gzipped size of the site's files behind `urls` (each counted once)."""
    files = {site / urlparse(u).path.lstrip("/") for u in urls}
    files = {f / "index.html" if f.is_dir() else f for f in files}
    return sum(gz(f) for f in files if f.is_file())


class Site:
    """A built site served on localhost, driven by one Chromium."""

    def __init__(self, site: Path, browser) -> None:
        self.site, self.browser = site, browser
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.requested: list[str] = []

    def fresh(self):
        """A page in a new browser context: an empty profile, nothing cached."""
        return self.browser.new_context().new_page()

    def ask(self, page, query: str, states: tuple[str, ...] = ("semantic", "nothing-close")) -> tuple[list[str], float]:
        """Type `query` into the open page; its result ids and the milliseconds, timed inside the page, from the
        input event to the answer in one of `states` (Playwright's own round trips left out)."""
        elapsed = page.evaluate(TYPE_AND_TIME, [query, list(states)])
        return page.eval_on_selector_all("[data-lesson-id]", "n => n.map(e => e.dataset.lessonId)"), elapsed

    def first_answer(self, query: str) -> tuple[float, list[str], object]:
        """Seconds from opening search/?q= in a fresh profile to its semantic answer, the URLs fetched, and the page
        (whose later requests go on to `self.requested`)."""
        page = self.fresh()
        urls: list[str] = []
        self.requested = urls
        page.on("request", lambda r: urls.append(r.url))
        start = time.perf_counter()
        page.goto(f"{self.base}search/?q={quote(query)}")
        page.wait_for_function(ANSWERED, arg=query, timeout=120_000)
        return time.perf_counter() - start, urls, page

    def idle_bytes(self) -> int:
        """Gzipped bytes of the search page before any question, beyond Material's own assets."""
        page = self.fresh()
        urls: list[str] = []
        page.on("request", lambda r: urls.append(r.url))
        page.goto(f"{self.base}search/")
        page.wait_for_load_state("networkidle")
        own = [u for u in urls if u.startswith(self.base) and not any(m in u for m in MATERIAL)]
        page.context.close()
        return site_bytes(self.site, own)

    def keyword_ms(self, query: str) -> float:
        """Milliseconds from typing to keyword results, with the model held back (as while it downloads)."""
        page = self.fresh()
        page.route("**/model/model.onnx*", lambda route: None)  # never answered: the model stays "loading"
        page.goto(f"{self.base}search/")
        page.focus("#lesson-q")
        page.wait_for_function("document.querySelector('.lesson-search__filters:not([hidden])')", timeout=120_000)
        _, elapsed = self.ask(page, query, ("keyword",))
        page.context.close()
        return elapsed

    def close(self) -> None:
        self.httpd.shutdown()


def cli_rankings(root: Path, env: dict[str, str], queries: list[dict[str, str]], k: int) -> dict[str, list[str]]:
    batch = root / "bench-queries.jsonl"
    batch.write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    out = lessons(root, env, "search", "--no-refresh", "--top", str(k), "--batch", str(batch))
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {row["query_id"]: [hit["id"] for hit in row["hits"]] for row in rows}


def parity(site: Site, root: Path, env: dict[str, str], queries: list[dict[str, str]], qrels: dict | None) -> dict:
    cli = cli_rankings(root, env, queries, 10)
    _, _, page = site.first_answer(queries[0]["text"])
    browser, times = {}, []
    for q in queries:
        browser[q["id"]], ms = site.ask(page, q["text"])
        times.append(ms)
    page.context.close()
    both = [q["id"] for q in queries if cli[q["id"]] and browser[q["id"]]]
    result = {
        "queries": len(queries),
        "top1_agreement": round(sum(cli[i][0] == browser[i][0] for i in both) / len(both), 4),
        "top5_overlap": round(sum(len(set(cli[i][:5]) & set(browser[i][:5])) / 5 for i in both) / len(both), 4),
        "nothing_close_on_page": len(queries) - len(both),
        "warm_query_ms_median": round(statistics.median(times[1:] or times), 1),
    }
    if qrels:
        from indexer.search.evaluate import evaluate

        result["ndcg10_cli_fp32"] = evaluate(cli, qrels).ndcg_at_10
        result["ndcg10_page_int8"] = evaluate(browser, qrels).ndcg_at_10
    return result


def measure_site(root: Path, env: dict[str, str], browser, probe: str) -> dict:
    build_s = build_site(root, env)
    site = Site(root / "site", browser)
    try:
        firsts = []
        for _ in range(2):  # two more fresh profiles, for the median
            elapsed, _, other = site.first_answer(probe)
            other.context.close()
            firsts.append(elapsed)
        seconds, urls, page = site.first_answer(probe)
        firsts.append(seconds)
        urls = list(urls)  # what the first answer fetched; the page's listener goes on recording
        fresh, again, files = [], [], []
        for question in NEW_QUESTIONS:  # never asked on this page: their shards are fetched, except those shared
            before = len(site.requested)
            fresh.append(site.ask(page, question)[1])
            files.append(sum("/data/vectors-" in u or "/data/passages-" in u for u in site.requested[before:]))
        for question in NEW_QUESTIONS:  # asked again: everything is in the page already
            again.append(site.ask(page, question)[1])
        page.context.close()
        data = root / "site" / "assets" / "search" / "data"
        lessons = json.loads((data / "lessons.json").read_text(encoding="utf-8"))
        shards = {kind: [u for u in urls if f"/data/{kind}-" in u] for kind in ("vectors", "passages")}
        return {
            "site_build_s": round(build_s, 1),
            "first_semantic_answer_s": {"median": round(statistics.median(firsts), 2), "all": [round(x, 2) for x in firsts]},
            "new_question_ms": {"median": round(statistics.median(fresh), 1), "all": [round(x) for x in fresh]},
            "new_question_files": {"median": statistics.median(files), "all": files},
            "question_again_ms": {"median": round(statistics.median(again), 1), "all": [round(x) for x in again]},
            "keyword_results_ms": round(site.keyword_ms(probe), 1),
            "page_before_query_gzip_kb": round(site.idle_bytes() / 1024, 1),
            "first_answer_total_gzip_mb": round(site_bytes(root / "site", [u for u in urls if u.startswith(site.base)]) / 1e6, 2),
            "lesson_data_gzip_mb": round(sum(gz(data / name) for name in DATA) / 1e6, 3),
            "lesson_data_raw_mb": round(sum((data / name).stat().st_size for name in DATA) / 1e6, 3),
            "lesson_data_gzip_kb": {name: round(gz(data / name) / 1024, 1) for name in DATA},
            "first_answer_shards": {
                kind: [len(found), round(site_bytes(root / "site", found) / 1024, 1)] for kind, found in shards.items()
            },
            "passages_per_lesson": round(sum(lessons["passage_counts"]) / max(1, len(lessons["passage_counts"])), 2),
        }
    finally:
        site.close()


def eval_set(name: str, data_dir: Path, work: Path, env: dict[str, str], browser) -> dict:
    root = work / name
    if not (root / "lessons").is_dir():
        subprocess.run([sys.executable, str(data_dir.parent / "to_kb.py"), str(data_dir), str(root)], check=True, capture_output=True)
        shutil.copy(REPO / "lessons" / "taxonomy.yml", root / "lessons" / "taxonomy.yml")
        with_site_files(root)
    queries = [json.loads(line) for line in (root / "queries.jsonl").read_text().splitlines() if line.strip()]
    qrels: dict[str, dict[str, int]] = {}
    for line in (root / "qrels.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("query"):
            q, d, g = line.split("\t")[:3]
            qrels.setdefault(q, {})[d] = int(float(g))
    build_site(root, env)
    site = Site(root / "site", browser)
    try:
        return parity(site, root, env, [{"id": q["id"], "text": q["text"]} for q in queries], qrels) | {
            "data_side": data_side(root, queries, qrels)
        }
    finally:
        site.close()


def data_side(root: Path, queries: list[dict[str, str]], qrels: dict | None) -> dict:
    """The page's two stages (search/page.py) against `lessons search`, both fed the CLI's own query vectors: the
    parity lost by the data the page downloads, apart from the int8 model's."""
    import numpy as np

    from indexer.core.kb import find_root
    from indexer.core.settings import load_settings
    from indexer.search import page, rank
    from indexer.search.evaluate import evaluate
    from indexer.search.expansion import expand
    from indexer.search.session import open_session

    kb = find_root(explicit=root)
    session = open_session(kb, load_settings(root), cache_dir=REPO / ".lessons" / "models", refresh=False)
    data, embedder, weight = session.index, session.embedder, session.settings.dense_weight
    rows = [r for r in range(data.size) if data.facets["status"][r] == "published"]
    counts = [int((data.passage_lesson == r).sum()) for r in rows]
    vectors = page.PageVectors.of(np.asarray(data.matrix[np.isin(data.passage_lesson, rows)], dtype=np.float32), rows, counts)
    allowed = rank.allowed_lessons(data, rank.Filters())
    cli, got, candidates = {}, {}, []
    for q in queries:
        cli[q["id"]] = [h.id for h in rank.answer(data, embedder, [q["text"]], top_k=10, dense_weight=weight, taxonomy=kb.taxonomy)[0].hits]
        pair = tuple(embedder.encode([q["text"], expand(q["text"], kb.taxonomy).dense_text(q["text"])]))
        found = page.answer(data, vectors, q["text"], pair, allowed, 10, weight, kb.taxonomy)
        got[q["id"]] = [data.ids[r] for r in found.rows]
        candidates.append(found.candidates)
    ids = [i for i in cli if cli[i] and got[i]]
    result = {
        "top1_agreement": round(sum(cli[i][0] == got[i][0] for i in ids) / len(ids), 4),
        "top5_overlap": round(sum(len(set(cli[i][:5]) & set(got[i][:5])) / 5 for i in ids) / len(ids), 4),
    }
    if qrels:
        result |= {"ndcg10_cli": evaluate(cli, qrels).ndcg_at_10, "ndcg10_page_data": evaluate(got, qrels).ndcg_at_10}
    return result | {"candidate_files": candidate_files(root, data, candidates)}


def candidate_files(root: Path, data, candidates: list[list[int]]) -> dict:
    """How many int8 vector files a question's candidates fall in (the page's first fetch for a new question), and
    their raw KB, with the built site's shards grouped by meaning against shards of 4 lessons in index order."""
    import numpy as np

    exported = json.loads((root / "site" / "assets" / "search" / "data" / "lessons.json").read_text(encoding="utf-8"))
    position = {data.row_of(card["id"]): i for i, card in enumerate(exported["lessons"])}
    counts = np.asarray(exported["passage_counts"])
    layouts = {"by_meaning": np.asarray(exported["shards"]), "index_order_of_4": np.arange(len(counts)) // 4}
    result = {}
    for name, shard in layouts.items():
        files = [sorted({int(shard[position[r]]) for r in rows}) for rows in candidates]
        size = 4 + data.matrix.shape[1]  # a passage: its float32 scale and int8 values
        kb = [sum(int(counts[shard == k].sum()) for k in used) * size / 1024 for used in files]
        result[name] = {
            "median": statistics.median(len(f) for f in files),
            "mean": round(statistics.mean(len(f) for f in files), 1),
            "raw_kb_mean": round(statistics.mean(kb), 1),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval-dev")
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000])
    parser.add_argument("--work", type=Path, help="keep the generated knowledge bases here (default: a temporary folder)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        work = args.work or Path(tmp)
        env = dict(os.environ, LESSONS_CACHE_DIR=str(REPO / ".lessons" / "models"), NO_MKDOCS_2_WARNING="1")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        starter = work / "starter"
        if not (starter / "lessons").is_dir():
            shutil.copytree(REPO / "lessons", starter / "lessons")
            with_site_files(starter)
        report = {"precision": {"cli": "fp32 model, fp32 passage vectors", "page": "weight-only int8 model, signs then int8 vectors"}}
        report["starter"] = measure_site(starter, env, browser, PAGE_QUERIES[0])
        site = Site(starter / "site", browser)
        starter_queries = [{"id": str(i), "text": t} for i, t in enumerate(PAGE_QUERIES)]
        report["starter"] |= parity(site, starter, env, starter_queries, None) | {"data_side": data_side(starter, starter_queries, None)}
        site.close()
        print(json.dumps({"starter": report["starter"]}), flush=True)
        for name in ("stackfaq", "semeval2016_cqa_ql"):
            if (args.eval_dir / name).is_dir():
                report[name] = eval_set(name, args.eval_dir / name, work, env, browser)
                print(json.dumps({name: report[name]}), flush=True)
            if name == "stackfaq":  # the large site next: semeval's index takes longest to build
                for size in args.sizes:
                    root = work / f"synthetic-{size}"
                    if not (root / "lessons").is_dir():
                        make_knowledge_base(root, size, distinct_titles=False)
                        with_site_files(root)
                    report[f"lessons-{size}"] = measure_site(root, env, browser, PAGE_QUERIES[0])
                    print(json.dumps({f"lessons-{size}": report[f"lessons-{size}"]}), flush=True)
        browser.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
