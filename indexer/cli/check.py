"""`lessons check`, `stats` and `schema`: the lessons as files, without the search index."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .options import json_option, knowledge_base


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors (what the knowledge base's CI uses).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints the same findings for bots and editors.",
)
@click.pass_context
def check(ctx: click.Context, paths: tuple[Path, ...], strict: bool, fmt: str) -> None:
    """Validate lessons: front matter, sections, privacy, HTML safety, references.

    Checks every lesson of the knowledge base, or only PATHS (files or folders). Prints one line
    per problem as path:line:col: level: [rule] message, then a summary. Exit code 0 when clean,
    1 when there are errors (or warnings with --strict), 2 on usage errors, 3 when the
    taxonomy file (lessons/taxonomy.yml) is missing or broken.

    \b
    Examples:
      lessons check
      lessons check lessons/cloud-erp-food-distributor.md --strict
      lessons check --format json | jq '.findings[].rule'
    """
    from ..core.check import check_knowledge_base
    from .terminal import echo, echo_json, progress_bar

    with progress_bar("Checking lessons") as progress:
        report = check_knowledge_base(knowledge_base(ctx), paths, progress=progress)
    if strict:
        report = report.strict()
    if fmt == "json":
        echo_json(
            {
                "files": report.files,
                "errors": report.errors,
                "warnings": report.warnings,
                "findings": [f.to_dict() for f in report.findings],
            }
        )
    else:
        for finding in report.findings:
            echo(finding.format())
        verdict = "FAILED" if report.errors else "OK"
        click.echo(
            f"{verdict}: {report.files} lesson file(s) checked, {report.errors} error(s), {report.warnings} warning(s)",
            err=bool(report.findings),
        )
    ctx.exit(1 if report.errors else 0)


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of printing.")
@click.pass_context
def schema(ctx: click.Context, output: Path | None) -> None:
    """Print the JSON Schema of the lesson front matter (sectors from the taxonomy).

    \b
    Examples:
      lessons schema
      lessons schema -o schema/lesson.schema.json
    """
    from ..core.files import write_atomic
    from ..core.schema import json_schema

    text = json.dumps(json_schema(knowledge_base(ctx).taxonomy), indent=2) + "\n"
    if output:
        write_atomic(output, text)
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@click.command()
@json_option("Print JSON instead of tables.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count lessons by sector, technology, outcome, company size, country and language.

    Counts every lesson without errors (run 'lessons check' to see the others).

    \b
    Examples:
      lessons stats
      lessons stats --json
    """
    from ..core.check import check_knowledge_base
    from ..core.stats import compute_stats
    from ..core.vocabulary import FACETS

    kb = knowledge_base(ctx)
    report = check_knowledge_base(kb)
    result = compute_stats(report.lessons)
    from .terminal import echo, echo_json

    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(f"{result.total} lessons")
    for facet, rows in result.counts.items():
        heading = kb.taxonomy.word("company_size") if facet == "company_size" else FACETS[facet].singular
        echo(f"\n{heading}")  # the taxonomy's wording may name it: printed like any other knowledge-base text
        width = max((len(value) for value, _ in rows), default=0)
        for value, count in rows:
            bar = "#" * max(1, round(30 * count / max(result.total, 1)))
            echo(f"  {value:<{width}}  {count:>5}  {bar}")
    skipped = report.files - len(report.lessons)
    if skipped:
        click.echo(f"\n{skipped} file(s) with errors not counted: run 'lessons check'", err=True)
    for finding in report.findings:
        if finding.rule == "unreadable-folder":
            echo(f"{finding.path}: {finding.message}", err=True)


COMMANDS = (check, schema, stats)
