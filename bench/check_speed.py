"""Benchmark: how many lessons per second `lessons check` validates.

Generates 10,000 valid lessons in a temporary folder and times a real `lessons check` process on them
(best of three). Target: at least 1,000 lessons per second on a 2-core machine.

    python bench/check_speed.py [--count 10000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import make_knowledge_base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_knowledge_base(Path(tmp), args.count)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "indexer", "--root", str(root), "check", "--strict"], capture_output=True, text=True
            )
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                sys.exit(f"check failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        best = min(times)
        print(f"lessons checked: {args.count}")
        print(f"wall time (best of {args.runs}, whole process): {best:.2f} s")
        print(f"throughput: {args.count / best:,.0f} lessons/s (target >= 1,000)")


if __name__ == "__main__":
    main()
