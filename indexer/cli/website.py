"""`lessons site`: the website, from the lessons and the related lessons the search index finds."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .options import knowledge_base, model_options, open_search, settings_of


@click.command()
@click.option(
    "--engine",
    type=click.Choice(["mkdocs", "zensical"]),
    default="mkdocs",
    show_default=True,
    help="The site engine that builds the generated pages (both read mkdocs.yml).",
)
@click.option("--strict", is_flag=True, help="Fail on any warning, including lessons left out because of errors.")
@click.option("--no-build", is_flag=True, help="Only generate the pages into docs/generated/.")
@model_options
@click.pass_context
def site(ctx: click.Context, engine: str, strict: bool, no_build: bool, model: str | None, cache_dir: Path | None) -> None:
    """Build the website: every lesson page, browse pages, statistics, feed, related lessons.

    Generates the pages into docs/generated/ (the index is built or refreshed for related
    lessons), then builds the site into site/. Lessons with errors are left out and listed.

    \b
    Examples:
      lessons site
      lessons site --strict
      lessons site --engine zensical
    """
    from ..web.build import build, prepare
    from .terminal import echo, log

    started = time.perf_counter()
    kb = knowledge_base(ctx)
    settings = settings_of(kb)
    session = open_search(kb, settings, model, cache_dir, fast_start=False)
    report = prepare(kb, settings, related=session.related, log=log, search_files=session.browser_files, engine=engine)
    for finding in report.left_out:
        echo(f"{finding.format()} (left out of the site)", err=True)
    if report.left_out and strict:
        raise click.ClickException(f"{len({f.path for f in report.left_out})} lesson file(s) have errors (--strict)")
    if no_build:
        return
    out = build(kb, engine, strict=strict, log=log)
    elapsed = time.perf_counter() - started
    click.echo(f"Built the site for {report.lessons} lessons with {engine} into {kb.relpath(out)} in {elapsed:.1f} s.")
    click.echo(
        f"To look at it: python -m http.server --directory {kb.relpath(out)} 8000, then open http://localhost:8000/"
        + (" (or run: mkdocs serve)" if engine == "mkdocs" else "")
    )


COMMANDS = (site,)
