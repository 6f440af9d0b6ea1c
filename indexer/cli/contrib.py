"""`lessons review`, `from-issue` and `issue-form`: contributions by pull request and by issue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..contrib.issue_form import IssueLesson
    from ..contrib.review import SimilarFinder
    from ..core.kb import KnowledgeBase

from .options import SEARCH_INSTALL, json_option, knowledge_base, model_options, open_search, search_installed, settings_of
from .terminal import echo


@click.command()
@click.option("--base", required=True, envvar="LESSONS_REVIEW_BASE", help="Git commit, branch or tag to compare with (the PR's base).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the review to this file too.")
@model_options
@click.pass_context
def review(ctx: click.Context, base: str, fmt: str, output: Path | None, model: str | None, cache_dir: Path | None) -> None:
    """Review the lessons a change adds, modifies, renames or deletes against BASE.

    For each changed lesson: its 'lessons check' findings, and the existing lessons that already
    tell the same story (likely duplicates and related ones). Markdown for a pull-request
    comment, or JSON. Exit code 1 only if a changed lesson has errors. The model and the index
    are opened only once git has named the changed lessons. Without the search extra (the light
    install) the review checks the lessons and says that similar lessons were not looked up.

    \b
    Examples:
      lessons review --base origin/main
      lessons review --base main --format json
    """
    from ..contrib.review import review as run_review
    from ..contrib.review import to_markdown
    from ..core.files import write_atomic

    kb = knowledge_base(ctx)
    settings = settings_of(kb)
    finder: SimilarFinder | None = None
    if search_installed():
        session = open_search(kb, settings, model, cache_dir)

        def similar_lessons(path: Path, exclude: set[str]) -> list:
            return session.similar(str(path), 5, exclude=exclude)[1]

        finder = similar_lessons
    else:
        click.echo(f"note: similar lessons not looked up: the search extra is not installed ({SEARCH_INSTALL})", err=True)

    result = run_review(kb, base, similar_finder=finder, similarity_note=None if finder else SEARCH_INSTALL)
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if fmt == "json" else to_markdown(result, settings.site_url)
    if output:
        write_atomic(output, text + "\n")
    echo(text)
    ctx.exit(1 if result.errors else 0)


@click.command(name="from-issue")
@click.argument("source", type=click.File("rb"))
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="Where to write the lesson (default: lessons/).")
@json_option("Print the path and findings as JSON (for the issue workflow).")
@click.option(
    "--reply",
    type=click.Path(dir_okay=False, path_type=Path),
    help="If no lesson can be made or it has errors, write a comment for the issue here (the contributor's words defused).",
)
@click.pass_context
def from_issue(ctx: click.Context, source: IO[bytes], folder: Path | None, as_json: bool, reply: Path | None) -> None:
    """Turn the body of a filled-in 'Share a lesson' issue into a lesson file (SOURCE: a file, or - for stdin).

    The file name comes from the title; the contributor stays anonymous unless they ticked the box
    to be named. Amounts are read as the lesson's language writes them (2.400 in Spanish, 2,400 in
    English); an amount either could read differently is refused. Technologies are matched
    against the taxonomy's names and synonyms in every language (TPV: point-of-sale).

    Exit codes: 0, the lesson was written and has no errors; 1, it was written but has errors (no
    pull request should be opened); 2, the issue cannot be turned into a lesson (nothing written). With --reply, a comment for the
    issue is written in both failing cases.

    \b
    Examples:
      lessons from-issue issue-body.md
      gh issue view 42 --json body -q .body | lessons from-issue -
      lessons from-issue issue-body.md --reply reply.md
    """
    from ..contrib.issue_reply import issue_reply
    from ..core.check import check_knowledge_base
    from ..core.files import write_atomic

    kb = knowledge_base(ctx)
    try:
        made, target = _write_lesson(kb, source.read(), getattr(source, "name", "<stdin>"), folder)
    except UsageError as exc:
        if reply:
            write_atomic(reply, issue_reply([], str(exc)))
        raise
    report = check_knowledge_base(kb, [target])
    if reply and report.errors:
        write_atomic(reply, issue_reply(report.findings))
    if as_json:
        click.echo(
            json.dumps(
                {"path": kb.relpath(target), "id": target.stem, "notes": made.notes, "findings": [f.to_dict() for f in report.findings]},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        click.echo(f"Created {kb.relpath(target)}")
        for note in made.notes:
            echo(f"note: {note}", err=True)
        for finding in report.findings:
            echo(finding.format())
    ctx.exit(1 if report.errors else 0)


def _write_lesson(kb: KnowledgeBase, body: bytes, name: str, folder: Path | None) -> tuple[IssueLesson, Path]:
    """The lesson made from an issue body, written to a new file (never over an existing lesson)."""
    from ..contrib.answers import decode_answer_bytes
    from ..contrib.issue_form import lesson_from_issue
    from ..core.files import create_exclusive

    made = lesson_from_issue(decode_answer_bytes(body, name), kb.taxonomy)
    target = (folder if folder is not None else kb.lessons_dir) / made.filename
    if target.exists() or any(p.stem == target.stem for p in kb.lesson_files()):
        raise UsageError(f"a lesson named {target.stem} already exists: change the issue's title")
    try:
        create_exclusive(target, made.text)
    except FileExistsError:
        raise UsageError(f"{kb.relpath(target)} already exists") from None
    return made, target


@click.command(name="issue-form")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here instead of printing.")
@click.pass_context
def issue_form(ctx: click.Context, output: Path | None) -> None:
    """Print the GitHub issue form for sharing a lesson, with choices from the taxonomy.

    \b
    Examples:
      lessons issue-form -o .github/ISSUE_TEMPLATE/lesson.yml
    """
    from ..contrib.issue_form import render_issue_form
    from ..core.files import write_atomic

    text = render_issue_form(knowledge_base(ctx).taxonomy)
    if output:
        write_atomic(output, text)
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


COMMANDS = (review, from_issue, issue_form)
