"""The `lessons` command line: thin click commands over the library, one module per command group.

This module only makes the group and registers the commands; nothing in the package imports it. Each
command parses options, calls library functions and formats the result. Library modules are imported
inside commands, so `lessons --help` and `lessons check` never load the heavy ones.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import __version__
from . import check, contrib, maintain, new, search, website
from .options import LessonsGroup


@click.group(cls=LessonsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lessons")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="LESSONS_ROOT",
    help="Knowledge-base folder (default: the nearest folder at or above this one that has lessons/). Env: LESSONS_ROOT.",
)
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    """Lessons learned by SMEs adopting technology: check, index, search and publish them.

    \b
    Examples:
      lessons check                 # validate every lesson
      lessons new                   # start a new lesson from the template
      lessons stats --json          # counts by sector, technology, outcome...
    """
    ctx.ensure_object(dict)
    ctx.obj["root"] = root


for _module in (check, new, search, website, contrib, maintain):
    for _command in _module.COMMANDS:
        main.add_command(_command)
