"""Terminal presentation for the commands: progress bars on stderr and result listings."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..search.rank import Answer, SearchHit
    from ..search.similar import SimilarHit

OUTCOME_COLOURS = {"success": "green", "partial": "yellow", "failure": "red", "abandoned": "magenta", "ongoing": "cyan"}


def log(message: str) -> None:
    click.echo(message, err=True)


@contextmanager
def progress_bar(label: str, delay: float = 1.0) -> Iterator[Callable[[int, int], None]]:
    """A progress callback that draws a bar on stderr, only once the work has taken more than `delay` seconds."""
    started = time.monotonic()
    bar: Any = None  # click's ProgressBar, made on the first slow update
    shown = 0

    def update(done: int, total: int) -> None:
        nonlocal bar, shown
        if bar is None:
            if time.monotonic() - started < delay or not total:
                shown = done
                return
            bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, show_eta=True)
            bar.__enter__()
        bar.update(done - shown)
        shown = done

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _badge(outcome: str) -> str:
    return click.style(f"[{outcome}]", fg=OUTCOME_COLOURS.get(outcome, "white"), bold=True)


def _highlight(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(click.style(text[start:end], bold=True, fg="yellow"))
        last = end
    out.append(text[last:])
    return "".join(out)


def format_hits(hits: list[SearchHit]) -> str:
    """Results for people: rank, title, outcome, sector and size, score, path, snippet with the query terms highlighted.

    Colours are dropped by click when the output is not a terminal.
    """
    lines = []
    for hit in hits:
        where = f"{hit.sector}, {hit.company_size}" + (f", {hit.country}" if hit.country else "")
        lines.append(f"{hit.rank}. {click.style(hit.title, bold=True)} {_badge(hit.outcome)}")
        lines.append(f"   {where} | score {hit.score:.3f} | {hit.path}")
        lines.append(f"   {hit.section}: {_highlight(hit.snippet, hit.highlights)}")
        lines.append("")
    return "\n".join(lines).rstrip()


def format_answer(answer: Answer) -> str:
    """The results of one search; when no lesson is close, says so first and lists the nearest ones under that heading."""
    if not answer.nothing_close:
        return format_hits(answer.hits)
    heading = click.style("No lesson is close to this question: nobody has written about it yet.", bold=True)
    invite = "Tried it yourself? Share what happened: lessons new"
    return f"{heading}\n{invite}\n\nThe nearest lessons, for what they are worth:\n\n{format_hits(answer.hits)}"


def format_similar(hits: list[SimilarHit]) -> str:
    """Similar lessons grouped: those the author chose in `related:` first, then likely duplicates, then related ones."""
    lines = []
    groups = [("Chosen by the author", [h for h in hits if h.chosen_by_author])]
    groups += [
        (tier.capitalize(), [h for h in hits if h.tier == tier and not h.chosen_by_author]) for tier in ("likely duplicate", "related")
    ]
    for heading, group in groups:
        if not group:
            continue
        lines.append(click.style(f"{heading}:", bold=True))
        for hit in group:
            note = " (likely duplicate)" if hit.chosen_by_author and hit.tier == "likely duplicate" else ""
            lines.append(f"  {hit.score:.3f}  {hit.title} {_badge(hit.outcome)}{note}")
            lines.append(f"         {hit.path}")
    return "\n".join(lines)
