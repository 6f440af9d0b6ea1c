"""`lessons init`, `doctor` and `samples`: starting a knowledge base and finishing its set-up."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import EXIT_FINDINGS
from .options import json_option, knowledge_base, settings_of


@click.command()
@click.argument("folder", type=click.Path(path_type=Path), default=".")
@click.option(
    "--domain",
    type=click.Choice(["sme", "generic"]),
    default="sme",
    show_default=True,
    help="Wording and facets: 'sme' for small businesses (with business functions), 'generic' for any organisation (without).",
)
@click.option("--no-samples", is_flag=True, help="Start without the fictional sample lessons.")
def init(folder: Path, domain: str, no_samples: bool) -> None:
    """Create a knowledge base in FOLDER (default: here): taxonomy, settings, site, GitHub workflows and issue form.

    It passes `lessons check --strict` and `lessons site --strict` as it stands. Existing files
    are never overwritten: if any would be, nothing is written. The sample lessons are marked
    `sample: true`; `lessons samples --remove` drops them later. `lessons doctor` then lists
    what is left to set up.

    \b
    Examples:
      lessons init my-kb
      lessons init my-network --domain generic --no-samples
    """
    from ..contrib.init import init_knowledge_base

    written = init_knowledge_base(folder, domain, samples=not no_samples)
    click.echo(f"Created a knowledge base in {folder} ({len(written)} files).")
    click.echo("Next: git init, then `lessons doctor` lists what is left to set up (docs/maintaining.md explains each item).")


@click.command()
@json_option()
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """List what is not set up yet: repository and site URLs, sample lessons, workflows, labels.

    Exit code 0 when everything a file can show is set, 1 when something is left to do, 3 when a
    configuration file is broken. GitHub settings it cannot see are printed as reminders.

    \b
    Examples:
      lessons doctor          # exits 1 while something is left to set up
      lessons doctor --json   # exits 1 while something is left to set up
    """
    from ..contrib.doctor import REMINDERS, diagnose
    from ..core.check import check_knowledge_base

    kb = knowledge_base(ctx)
    samples = [lesson.id for lesson in check_knowledge_base(kb).lessons if lesson.meta.sample]
    items = diagnose(kb, settings_of(kb), samples)
    todo = [item for item in items if not item.ok]
    if as_json:
        click.echo(json.dumps({"todo": len(todo), "items": [i.to_dict() for i in items], "reminders": list(REMINDERS)}, indent=2))
    else:
        for item in items:
            click.echo(f"{'ok  ' if item.ok else 'TODO'} {item.id}: {item.message}" + (f"\n     fix: {item.fix}" if item.fix else ""))
        click.echo("Also check on GitHub (not visible from the files):")
        for reminder in REMINDERS:
            click.echo(f"  - {reminder}")
        click.echo(f"{len(todo)} item(s) left to set up." if todo else "Everything a file can show is set up.")
    ctx.exit(EXIT_FINDINGS if todo else 0)


@click.command()
@click.option("--remove", is_flag=True, help="Delete the sample lesson files.")
@click.pass_context
def samples(ctx: click.Context, remove: bool) -> None:
    """List the fictional sample lessons (`sample: true`), or delete them with --remove.

    Run `lessons check` afterwards: a real lesson that listed a sample as related must drop it.

    \b
    Examples:
      lessons samples
    """
    from ..core.check import check_knowledge_base

    kb = knowledge_base(ctx)
    found = [lesson.path for lesson in check_knowledge_base(kb).lessons if lesson.meta.sample]
    for path in found:
        if remove:
            path.unlink()
        click.echo(f"{'Removed' if remove else 'Sample:'} {kb.relpath(path)}")
    click.echo(f"{len(found)} sample lesson(s){' removed' if remove else ''}.", err=True)


COMMANDS = (init, doctor, samples)
