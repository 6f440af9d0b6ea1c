"""`lessons site`, `review`, `from-issue` and `issue-form`: publishing and contributing."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli import _kb, main
from .cli_search import _engine, _model_option, _ready
from .errors import UsageError


@main.command()
@click.option("--engine", type=click.Choice(["mkdocs", "zensical"]), default="mkdocs", show_default=True,
              help="The engine that builds the generated pages (both read mkdocs.yml).")
@click.option("--strict", is_flag=True, help="Fail on any warning, including lessons left out because of errors.")
@click.option("--no-build", is_flag=True, help="Only generate the pages into docs/generated/.")
@_model_option
@click.pass_context
def site(ctx: click.Context, engine: str, strict: bool, no_build: bool, model: str | None) -> None:
    """Build the website: every lesson page, browse pages, statistics, feed, related lessons.

    Generates the pages into docs/generated/ (the index is built or refreshed for related
    lessons), then builds the site into site/. Lessons with errors are left out and listed.

    \b
    Examples:
      lessons site
      lessons site --strict
      lessons site --engine zensical
    """
    import time

    from .engine import model_spec, open_embedder, ready_index
    from .settings import load_settings
    from .site import build, prepare
    from .terminal import log, progress_bar

    started = time.perf_counter()
    kb = _kb(ctx)
    settings = load_settings(kb.root)

    def index_loader():
        embedder, identity = open_embedder(kb, model_spec(settings, model), log)
        with progress_bar("Embedding passages") as progress:
            return ready_index(kb, embedder, identity, log=log, progress=progress)

    report = prepare(kb, settings, index_loader=index_loader, log=log)
    for finding in report.left_out:
        click.echo(f"{finding.format()} (left out of the site)", err=True)
    if report.left_out and strict:
        raise click.ClickException(f"{len({f.path for f in report.left_out})} lesson file(s) have errors (--strict)")
    if no_build:
        return
    out = build(kb, engine, strict=strict, log=log)
    elapsed = time.perf_counter() - started
    click.echo(f"Built the site for {report.lessons} lessons with {engine} into {kb.relpath(out)} in {elapsed:.1f} s.")
    click.echo(f"To look at it: python -m http.server --directory {kb.relpath(out)} 8000, then open http://localhost:8000/"
               + (" (or run: mkdocs serve)" if engine == "mkdocs" else ""))


@main.command()
@click.option("--base", required=True, envvar="LESSONS_REVIEW_BASE", help="Git commit, branch or tag to compare with (the PR's base).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the review to this file too.")
@_model_option
@click.pass_context
def review(ctx: click.Context, base: str, fmt: str, output: Path | None, model: str | None) -> None:
    """Review the lessons a change adds, modifies, renames or deletes against BASE.

    For each changed lesson: its 'lessons check' findings, and the existing lessons that already
    tell the same story (likely duplicates and related ones). Markdown for a pull-request
    comment, or JSON. Exit code 1 only if a changed lesson has errors.

    \b
    Examples:
      lessons review --base origin/main
      lessons review --base main --format json
    """
    from .fsutil import write_atomic
    from .review import review as run_review
    from .review import to_markdown
    from .similar import find_similar

    kb, settings, embedder, identity = _engine(ctx, model)
    state: dict = {}

    def finder(path: Path, exclude: set[str]):
        if "data" not in state:
            state["data"] = _ready(kb, embedder, identity, refresh=True)
        return find_similar(kb, state["data"], embedder, str(path), settings, 5, exclude=exclude)[1]

    result = run_review(kb, base, settings, similar_finder=finder)
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if fmt == "json" else to_markdown(result, settings.site_url)
    if output:
        write_atomic(output, text + "\n")
    click.echo(text)
    ctx.exit(1 if result.errors else 0)


@main.command(name="from-issue")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="Where to write the lesson (default: lessons/).")
@click.option("--json", "as_json", is_flag=True, help="Print the path and findings as JSON (for the issue workflow).")
@click.pass_context
def from_issue(ctx: click.Context, source, folder: Path | None, as_json: bool) -> None:
    """Turn the body of a filled-in 'Share a lesson' issue into a lesson file (SOURCE: a file, or - for stdin).

    The file name comes from the title; the contributor stays anonymous unless they ticked the box
    to be named. The new file is checked like any lesson; exit code 1 if it has errors.

    \b
    Examples:
      lessons from-issue issue-body.md
      gh issue view 42 --json body -q .body | lessons from-issue -
    """
    from .checks import check_knowledge_base
    from .fsutil import create_exclusive
    from .issueform import lesson_from_issue

    kb = _kb(ctx)
    made = lesson_from_issue(source.read(), kb.taxonomy)
    target = (folder if folder is not None else kb.lessons_dir) / made.filename
    if target.exists() or any(p.stem == target.stem for p in kb.lesson_files()):
        raise UsageError(f"a lesson named {target.stem} already exists: change the issue's title")
    try:
        create_exclusive(target, made.text)
    except FileExistsError:
        raise UsageError(f"{kb.relpath(target)} already exists") from None
    report = check_knowledge_base(kb, [target])
    if as_json:
        click.echo(json.dumps({"path": kb.relpath(target), "id": target.stem, "notes": made.notes,
                               "findings": [f.to_dict() for f in report.findings]}, indent=2, ensure_ascii=False))
    else:
        click.echo(f"Created {kb.relpath(target)}")
        for note in made.notes:
            click.echo(f"note: {note}", err=True)
        for finding in report.findings:
            click.echo(finding.format())
    ctx.exit(1 if report.errors else 0)


@main.command(name="issue-form")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here instead of printing.")
@click.pass_context
def issue_form(ctx: click.Context, output: Path | None) -> None:
    """Print the GitHub issue form for sharing a lesson, with choices from the taxonomy.

    \b
    Examples:
      lessons issue-form -o .github/ISSUE_TEMPLATE/lesson.yml
    """
    from .fsutil import write_atomic
    from .issueform import render_issue_form

    text = render_issue_form(_kb(ctx).taxonomy)
    if output:
        write_atomic(output, text)
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
