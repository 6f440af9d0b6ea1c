"""The command reference (docs/cli.md), rendered from the commands' own --help texts.

Run `.venv/bin/python -m indexer.cli.reference > docs/cli.md` after changing a command's options or help; a test
checks that the file is current. The help is rendered at a fixed width, whatever the terminal or COLUMNS
say, so the file is the same on every machine. This module is not imported by the command line itself.
"""

from __future__ import annotations

import click

WIDTH = 100  # characters per help line in the reference
REGENERATE = ".venv/bin/python -m indexer.cli.reference > docs/cli.md"


def _group_context(group: click.Group, prog_name: str) -> click.Context:
    settings = {**group.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    return click.Context(group, info_name=prog_name, **settings)


def command_help(group: click.Group, name: str | None = None, prog_name: str = "lessons") -> str:
    """The --help text of the group (name None) or of one of its commands, as `PROG [NAME] --help` prints it at WIDTH."""
    parent = _group_context(group, prog_name)
    if name is None:
        return group.get_help(parent)
    command = group.commands[name]
    with click.Context(command, info_name=name, parent=parent, **command.context_settings) as ctx:
        return command.get_help(ctx)


def command_names(group: click.Group, prog_name: str = "lessons") -> list[str]:
    """The group's commands, in the order its --help lists them."""
    return list(group.list_commands(_group_context(group, prog_name)))


def render_reference(group: click.Group, prog_name: str = "lessons") -> str:
    """Markdown: the group's help, then every command's name, one-line summary and full --help text."""
    names = command_names(group, prog_name)
    lines = [
        f"# Command reference: `{prog_name}`",
        "",
        f"Generated from `{prog_name} --help` and each command's `--help`; do not edit by hand. After changing a command,",
        f"regenerate it with `{REGENERATE}` (a test fails until you do).",
        "",
        "| command | what it does |",
        "|---|---|",
        *(f"| [`{prog_name} {name}`](#{prog_name}-{name}) | {group.commands[name].get_short_help_str(limit=200)} |" for name in names),
        "",
        f"## `{prog_name}`",
        "",
        "```text",
        command_help(group, None, prog_name).rstrip(),
        "```",
    ]
    for name in names:
        lines += ["", f"## `{prog_name} {name}`", "", "```text", command_help(group, name, prog_name).rstrip(), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from indexer.cli import main

    click.echo(render_reference(main), nl=False)
