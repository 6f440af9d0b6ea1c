"""Benchmark: building the website for generated knowledge bases of 1,000 and 5,000 lessons.

For each size: generate the lessons, build the index first (embedding is cached by the index and not
part of the figure), then time `lessons site` (check, related lessons, page generation and the MkDocs
build) in a new process. Reports build time (wall clock, and the CPU time of that process, which depends
less on what else the machine runs), site size (total and per lesson) and the gzipped size of the
keyword search index (lunr's, of the documentation pages only: lessons have their own search page, whose
data is part of the site's size). Targets: 1,000 lessons in at most 20 s, 5,000 in at most 100 s, at most
150 KB per lesson.

    python bench/site_speed.py [--sizes 1000 5000]
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import make_knowledge_base  # noqa: E402


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        env = dict(os.environ, LESSONS_CACHE_DIR=str(work / "models"), NO_MKDOCS_2_WARNING="1")
        for size in args.sizes:
            root = work / f"site-{size}"
            if not (root / "lessons").is_dir():
                make_knowledge_base(root, size, distinct_titles=False)
                shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("generated"))
                (root / "docs" / "generated").mkdir()
                for name in ("mkdocs.yml", "lessons.toml"):
                    shutil.copy(REPO / name, root / name)
            lessons = [sys.executable, "-m", "indexer", "--root", str(root)]
            subprocess.run([*lessons, "index"], env=env, check=True, capture_output=True, cwd=REPO)
            shutil.rmtree(root / "site", ignore_errors=True)
            start, cpu_start = time.perf_counter(), _children_cpu()
            proc = subprocess.run([*lessons, "site"], env=env, capture_output=True, text=True, cwd=REPO)
            elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu_start
            if proc.returncode != 0:
                sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])
            site = root / "site"
            total = folder_size(site)
            index = (site / "search" / "search_index.json").read_bytes()
            print(
                f"{size} lessons: lessons site {elapsed:.1f} s, {cpu:.1f} s CPU (target {'20' if size <= 1000 else '100'} s "
                f"at 1,000/5,000; load average {os.getloadavg()[0]:.1f}); site {total / 2**20:.1f} MB = "
                f"{total / size / 1024:.0f} KB per lesson; keyword search index (documentation pages) "
                f"{len(index) / 2**10:.0f} KB, {len(gzip.compress(index)) / 2**10:.0f} KB gzipped"
            )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
