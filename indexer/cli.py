"""The `lessons` command line: thin click commands over the library.

Each command parses options, calls one library function and formats the result. Library modules
are imported inside commands so `lessons --help` and `lessons check` never load the heavy ones.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import LessonsError, UsageError


class _Group(click.Group):
    """Turns domain errors into one-line messages and exit codes: 2 for usage, 1 for the rest."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(str(exc), ctx) from None
        except LessonsError as exc:
            raise click.ClickException(str(exc)) from None


def _kb(ctx: click.Context):
    from .kb import find_root

    return find_root(explicit=ctx.obj.get("root"))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lessons")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="LESSONS_ROOT",
              help="Knowledge-base folder (default: the nearest folder at or above this one that has lessons/). Env: LESSONS_ROOT.")
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    """Lessons learned by SMEs adopting technology: check, index, search and publish them.

    \b
    Examples:
      lessons check                 validate every lesson
      lessons new                   start a new lesson from the template
      lessons stats --json          counts by sector, technology, outcome...
    """
    ctx.ensure_object(dict)
    ctx.obj["root"] = root


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors (what the knowledge base's CI uses).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json prints the same findings for bots and editors.")
@click.pass_context
def check(ctx: click.Context, paths: tuple[Path, ...], strict: bool, fmt: str) -> None:
    """Validate lessons: front matter, sections, privacy, HTML safety, references.

    Checks every lesson of the knowledge base, or only PATHS (files or folders). Prints one line
    per problem as path:line:col: level: [rule] message, then a summary. Exit code 0 when clean,
    1 when there are errors (or warnings with --strict), 2 on usage errors.

    \b
    Examples:
      lessons check
      lessons check lessons/cloud-erp-food-distributor.md --strict
      lessons check --format json | jq '.findings[].rule'
    """
    from .checks import check_knowledge_base
    from .terminal import progress_bar

    with progress_bar("Checking lessons") as progress:
        report = check_knowledge_base(_kb(ctx), paths, progress=progress)
    if strict:
        report = report.strict()
    if fmt == "json":
        click.echo(json.dumps({"files": report.files, "errors": report.errors, "warnings": report.warnings,
                               "findings": [f.to_dict() for f in report.findings]}, indent=2, ensure_ascii=False))
    else:
        for finding in report.findings:
            click.echo(finding.format())
        verdict = "FAILED" if report.errors else "OK"
        click.echo(f"{verdict}: {report.files} lesson file(s) checked, {report.errors} error(s), {report.warnings} warning(s)",
                   err=bool(report.findings))
    ctx.exit(1 if report.errors else 0)


@main.command()
@click.option("--title", help="What the lesson is about (10-120 characters); the file name comes from it.")
@click.option("--sector", help="Sector slug from the taxonomy, e.g. retail-wholesale.")
@click.option("--size", type=click.Choice(["micro", "small", "medium"]), help="micro (<10 staff), small (<50), medium (<250).")
@click.option("--outcome", type=click.Choice(["success", "partial", "failure", "abandoned", "ongoing"]), help="How it turned out.")
@click.option("--technology", "technologies", multiple=True, help="Technology slug; repeat for several.")
@click.option("--language", default=None, help="Language of the lesson (en, es...). Default: en.")
@click.option("--summary", default="", help="One or two sentences with the key figures (can be written later).")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="Subfolder of lessons/ to write into.")
@click.option("--interactive/--no-interactive", default=None,
              help="Ask for missing values (default: only when run in a terminal).")
@click.pass_context
def new(ctx: click.Context, **options) -> None:
    """Create a new lesson from the template.

    Asks for the missing values when run in a terminal; scripts pass them all as options.
    Never overwrites an existing file.

    \b
    Examples:
      lessons new
      lessons new --title "Moving our invoices to e-invoicing" --sector retail-wholesale \\
                  --size small --outcome success --technology e-invoicing
    """
    from .authoring import create_lesson

    kb = _kb(ctx)
    interactive = options["interactive"] if options["interactive"] is not None else sys.stdin.isatty()
    answers = _ask_new(kb, options)
    if not _show_similar(kb, answers, interactive):
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


def _show_similar(kb, answers, interactive: bool) -> bool:
    """Show the three most similar existing lessons (when an index exists); True to go on writing the lesson."""
    from .authoring import validate_answers
    from .engine import existing_index, model_spec
    from .settings import load_settings
    from .similar import similar_to_text

    validate_answers(kb, answers)
    settings = load_settings(kb.root)
    found = existing_index(kb, model_spec(settings))
    if found is None:
        return True
    data, embedder = found
    hits = similar_to_text(data, embedder, f"{answers.title}\n{answers.summary}", answers.technologies, settings)
    if not hits:
        return True
    click.echo("Has anyone tried this already? The most similar existing lessons:", err=True)
    for hit in hits:
        click.echo(f"  {hit.score:.2f}  {hit.title} [{hit.outcome}]  {hit.path}", err=True)
    if not interactive:
        return True
    return click.confirm("Write your new lesson anyway?", default=True, err=True)


def _ask_new(kb, options: dict):
    from .authoring import NewLesson

    interactive = options["interactive"]
    if interactive is None:
        interactive = sys.stdin.isatty()
    taxonomy = kb.taxonomy
    prompts = {
        "title": ("Title (what the lesson is about)", None),
        "sector": ("Sector", click.Choice(sorted(taxonomy.sectors))),
        "size": ("Company size", click.Choice(["micro", "small", "medium"])),
        "outcome": ("Outcome", click.Choice(["success", "partial", "failure", "abandoned", "ongoing"])),
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
    return NewLesson(title=options["title"], sector=options["sector"], size=options["size"], outcome=options["outcome"],
                     technologies=list(options["technologies"]), language=options["language"], summary=options["summary"])


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of printing.")
@click.pass_context
def schema(ctx: click.Context, output: Path | None) -> None:
    """Print the JSON Schema of the lesson front matter (sectors from the taxonomy).

    \b
    Examples:
      lessons schema
      lessons schema -o schema/lesson.schema.json
    """
    from .fsutil import write_atomic
    from .schema import json_schema

    text = json.dumps(json_schema(_kb(ctx).taxonomy), indent=2) + "\n"
    if output:
        write_atomic(output, text)
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count lessons by sector, technology, outcome, company size, country and language.

    Counts every lesson without errors (run 'lessons check' to see the others).

    \b
    Examples:
      lessons stats
      lessons stats --json
    """
    from .checks import check_knowledge_base
    from .stats import compute_stats

    report = check_knowledge_base(_kb(ctx))
    result = compute_stats(report.lessons)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{result.total} lessons")
    for facet, rows in result.counts.items():
        click.echo(f"\n{facet.replace('_', ' ').capitalize()}")
        width = max((len(value) for value, _ in rows), default=0)
        for value, count in rows:
            bar = "#" * max(1, round(30 * count / max(result.total, 1)))
            click.echo(f"  {value:<{width}}  {count:>5}  {bar}")
    skipped = report.files - len(report.lessons)
    if skipped:
        click.echo(f"\n{skipped} file(s) with errors not counted: run 'lessons check'", err=True)


# The other commands live in their own modules; importing them registers them on `main`.
from . import cli_publish, cli_search  # noqa: E402, F401
