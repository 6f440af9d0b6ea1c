"""`lessons new`: a new lesson from the template, after showing the lessons that may already tell its story."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..core.vocabulary import OUTCOMES, SIZE_HINT, SIZES, TITLE_MAX, TITLE_MIN
from ..errors import UsageError
from .options import knowledge_base, model_options, settings_of
from .terminal import echo

if TYPE_CHECKING:
    from ..contrib.new import NewLesson
    from ..core.kb import KnowledgeBase


@click.command()
@click.option("--title", help=f"What the lesson is about ({TITLE_MIN}-{TITLE_MAX} characters); the file name comes from it.")
@click.option("--sector", help="Sector slug from the taxonomy, e.g. retail-wholesale.")
@click.option("--size", type=click.Choice(SIZES), help=f"{SIZE_HINT}.")
@click.option("--outcome", type=click.Choice(OUTCOMES), help="How it turned out.")
@click.option("--technology", "technologies", multiple=True, help="Technology slug; repeat for several.")
@click.option("--language", default=None, help="Language of the lesson (en, es...). Default: en.")
@click.option("--summary", default="", help="One or two sentences with the key figures (can be written later).")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="Subfolder of lessons/ to write into.")
@click.option("--interactive/--no-interactive", default=None, help="Ask for missing values (default: only when run in a terminal).")
@model_options
@click.pass_context
def new(ctx: click.Context, model: str | None, cache_dir: Path | None, **options: Any) -> None:
    """Create a new lesson from the template.

    Asks for the missing values when run in a terminal; scripts pass them all as options.
    Shows the three most similar existing lessons first, when the index exists. Never
    overwrites an existing file.

    \b
    Examples:
      lessons new
      lessons new --title "Moving our invoices to e-invoicing" --sector retail-wholesale \\
                  --size small --outcome success --technology e-invoicing
    """
    from ..contrib.new import create_lesson, validate_answers

    kb = knowledge_base(ctx)
    interactive = options["interactive"] if options["interactive"] is not None else sys.stdin.isatty()
    answers = _ask(kb, options, interactive)
    validate_answers(kb, answers)
    if not _show_similar(kb, answers, interactive, model, cache_dir):
        click.echo("Nothing written.")
        return
    folder = options["folder"]
    if folder is not None and not folder.is_absolute():
        folder = kb.lessons_dir / folder
    path = create_lesson(kb, answers, folder=folder)
    click.echo(f"Created {kb.relpath(path)}")
    click.echo("Next: fill in the summary and each section (replace the lines in italics), then run")
    click.echo(f"  lessons check {kb.relpath(path)}")
    click.echo("and open a pull request. See docs/contributing.md.")


def _show_similar(kb: KnowledgeBase, answers: NewLesson, interactive: bool, model: str | None, cache_dir: Path | None) -> bool:
    """Show the three most similar existing lessons (when an index exists); True to go on writing the lesson."""
    from ..search.session import open_session

    session = open_session(kb, settings_of(kb), model=model, cache_dir=cache_dir, refresh=False, fast_start=True)
    if not session.available():
        return True
    hits = session.similar_to_text(f"{answers.title}\n{answers.summary}", answers.technologies)
    if not hits:
        return True
    click.echo("Has anyone tried this already? The most similar existing lessons:", err=True)
    for hit in hits:
        echo(f"  {hit.score:.2f}  {hit.title} [{hit.outcome}]  {hit.path}", err=True)
    if not interactive:
        return True
    return click.confirm("Write your new lesson anyway?", default=True, err=True)


def _ask(kb: KnowledgeBase, options: dict[str, Any], interactive: bool) -> NewLesson:
    """The answers from the options, asking for the missing ones in a terminal."""
    from ..contrib.new import NewLesson

    prompts = {
        "title": ("Title (what the lesson is about)", None),
        "sector": ("Sector", click.Choice(sorted(kb.taxonomy.sectors))),
        "size": ("Company size", click.Choice(SIZES)),
        "outcome": ("Outcome", click.Choice(OUTCOMES)),
    }
    missing = []
    for key, (text, choice) in prompts.items():
        if not options[key]:
            if interactive:
                options[key] = click.prompt(text, type=choice)
            else:
                missing.append(f"--{key}")
    if not options["technologies"]:
        if interactive:
            raw = click.prompt("Technologies (slugs, comma-separated, e.g. cloud-erp, e-invoicing)")
            options["technologies"] = [t.strip() for t in raw.split(",") if t.strip()]
        else:
            missing.append("--technology")
    if missing:
        raise UsageError(f"missing {', '.join(missing)} (no terminal to ask in); see 'lessons new --help'")
    if options["language"] is None:
        options["language"] = click.prompt("Language", default="en") if interactive else "en"
    return NewLesson(
        title=options["title"],
        sector=options["sector"],
        size=options["size"],
        outcome=options["outcome"],
        technologies=list(options["technologies"]),
        language=options["language"],
        summary=options["summary"],
    )


COMMANDS = (new,)
