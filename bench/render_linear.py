"""Benchmark: the lesson-body renderer's time on the pathological inputs of issue 12, at n and 10n.

Each family is rendered as the site renders it (the pre-scan of `indexer.core.prescan`, then Markdown and nh3,
or a refusal); its time at 10n over its time at n must stay under 20 for the renderer to count as linear.
Each family is measured at its issue size n against 10n, and at n/10 against n (where 10n is over the body size
limit, only the second pair runs the whole scan). A linear baseline (counting the words of the same input) is
measured in the same run, so a loaded machine shows in both.
`--raw` also times the renderer without the pre-scan at n, each input in its own process under a timeout:
the figures before the fix.

    python bench/render_linear.py [--raw] [--timeout 300]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# name -> (builder of a body of size n, the n issue 12 reported)
FAMILIES: dict[str, tuple[Callable[[int], str], int]] = {
    '"- " * n + "deep"': (lambda n: "- " * n + "deep", 500),
    "n indented list levels": (lambda n: "\n".join("    " * i + "- x" for i in range(n)), 250),
    '"[" * n + "x" + "](" * n': (lambda n: "[" * n + "x" + "](" * n, 4_000),
    '"[\\n" * n': (lambda n: "[\n" * n, 20_000),
    '"<a " * n': (lambda n: "<a " * n, 16_000),
}
LINEAR_LIMIT = 20


def render_or_refuse(body: str) -> str:
    """What the site does with a body: its HTML, or nothing when the pre-scan or the renderer refuses it."""
    from indexer.web.fragments import RenderFailed, render_body

    try:
        return render_body(body)
    except RenderFailed:
        return ""


def seconds(body: str, render: Callable[[str], str] = render_or_refuse, least: float = 0.02) -> float:
    """Best CPU time of one render, from runs of at least `least` seconds (microsecond refusals need repeats).
    CPU time, not wall time: on a shared machine a longer run is also preempted more often."""
    timer = timeit.Timer(lambda: render(body), timer=time.process_time)
    number = 1
    while (spent := timer.timeit(number)) < least:
        number *= 2 if spent * 8 >= least else 8
    return min([spent, *timer.repeat(repeat=2, number=number)]) / number


def baseline(body: str) -> float:
    """A workload known to be linear on the same input: counting its words."""
    return seconds(body, lambda text: str(len(_WORDS.findall(text))))


_WORDS = re.compile(r"\S+")


def ratios(build: Callable[[int], str], n: int) -> tuple[float, float, float, float]:
    """Time at n and at 10n, and the linear baseline's time on the same two inputs."""
    small, large = build(n), build(10 * n)
    return seconds(small), seconds(large), baseline(small), baseline(large)


def sizes(n: int) -> tuple[int, int]:
    """The two sizes each family is measured at (each against ten times itself)."""
    return max(1, n // 10), n


def raw_seconds(name: str, timeout: float) -> str:
    """The renderer without the pre-scan (Markdown then nh3, as before the fix) on one family at its n."""
    code = (
        "import sys, time, markdown, nh3\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from bench.render_linear import FAMILIES\n"
        "build, n = FAMILIES[sys.argv[1]]\n"
        "body = build(n)\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    nh3.clean(markdown.markdown(body, extensions=['tables', 'fenced_code', 'sane_lists', 'toc']))\n"
        "    outcome = 'rendered'\n"
        "except RecursionError:\n"
        "    outcome = 'RecursionError'\n"
        "print(f'{time.perf_counter() - start:.2f} s, {outcome}')\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    try:
        proc = subprocess.run([sys.executable, "-c", code, name, root], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"over {timeout:.0f} s (stopped)"
    return proc.stdout.strip() or proc.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", action="store_true", help="also time the renderer without the pre-scan (slow: minutes)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed to each raw render")
    args = parser.parse_args()
    print(f"{'family':28} {'n':>7} {'t(n)':>10} {'t(10n)':>10} {'ratio':>6} {'baseline':>8}")
    worst = 0.0
    for name, (build, issue_n) in FAMILIES.items():
        for n in sizes(issue_n):
            t1, t10, b1, b10 = ratios(build, n)
            worst = max(worst, t10 / t1)
            print(f"{name:28} {n:>7} {t1 * 1e3:>8.3f}ms {t10 * 1e3:>8.3f}ms {t10 / t1:>6.1f} {b10 / b1:>8.1f}")
    print(f"largest ratio: {worst:.1f} (linear means under {LINEAR_LIMIT})")
    if args.raw:
        print("\nwithout the pre-scan (before the fix), at n:")
        for name in FAMILIES:
            print(f"{name:28} {FAMILIES[name][1]:>7} {raw_seconds(name, args.timeout)}", flush=True)
    if worst >= LINEAR_LIMIT:
        sys.exit(1)


if __name__ == "__main__":
    main()
