"""`lessons new`: a new lesson from the template, after showing the lessons that may already tell its story."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..core.characters import for_terminal
from ..core.vocabulary import LANGUAGE_PATTERN, OUTCOMES, SIZE_HINT, SIZES, TITLE_MAX, TITLE_MIN
from ..errors import UsageError
from .options import knowledge_base, model_options, search_installed, settings_of
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
    if not search_installed():  # the light install has no index to ask
        return True
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
    """The answers from the options, asking for the missing ones in a terminal. Each answer is checked as it is
    typed and asked again if it cannot be used, so no earlier answer is lost."""
    from ..contrib.new import NewLesson, check_title, interpret, interpret_list

    taxonomy = kb.taxonomy
    prompts: dict[str, tuple[str, Callable[[str], Any]]] = {
        "title": (f"Title: what the lesson is about, {TITLE_MIN} to {TITLE_MAX} characters", check_title),
        "sector": (
            "Sector (a slug such as retail-wholesale, or a word such as bakery, hostelería)",
            lambda a: interpret("sector", a, taxonomy),
        ),
        "size": (f"{taxonomy.word('company_size')}: {SIZE_HINT}; or type the number of staff", lambda a: interpret("size", a, taxonomy)),
        "outcome": (f"Outcome ({', '.join(OUTCOMES)})", lambda a: interpret("outcome", a, taxonomy)),
        "technologies": (
            "Technologies, comma-separated (e.g. cloud-erp, TPV, copias de seguridad)",
            lambda a: interpret_list("technology", a, taxonomy),
        ),
    }
    missing = ["--technology" if key == "technologies" else f"--{key}" for key in prompts if not options[key]]
    if missing and not interactive:
        raise UsageError(f"missing {', '.join(missing)} (no terminal to ask in); see 'lessons new --help'")
    for key, (text, read) in prompts.items():
        if not options[key]:
            options[key] = click.prompt(for_terminal(text), value_proc=_asking_again(read))  # text may quote the taxonomy
    if options["language"] is None:
        options["language"] = (
            click.prompt("Language (en, es...)", default="en", value_proc=_asking_again(_language)) if interactive else "en"
        )
    return NewLesson(
        title=options["title"],
        sector=options["sector"],
        size=options["size"],
        outcome=options["outcome"],
        technologies=list(options["technologies"]),
        language=options["language"],
        summary=options["summary"],
    )


def _asking_again(read: Callable[[str], Any]) -> Callable[[str], Any]:
    """A prompt's reader whose refusals make click print the message and ask the same question again."""

    def proc(answer: str) -> Any:
        try:
            return read(answer)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None

    return proc


def _language(answer: str) -> str:
    if not re.match(LANGUAGE_PATTERN, answer.strip()):
        raise UsageError(f"'{answer.strip()}' is not a language code: write a two-letter code such as en or es")
    return answer.strip()


COMMANDS = (new,)
