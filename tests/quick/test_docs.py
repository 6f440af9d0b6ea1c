"""The documentation keeps up with the command line: the README's command table and the generated docs/cli.md."""

from __future__ import annotations

import subprocess
import sys

from indexer.cli import main
from indexer.cli.reference import REGENERATE, command_help, render_reference
from tests.docs_examples import all_examples, readme_command_table
from tests.helpers import REPO


def test_readme_command_table_lists_exactly_the_commands() -> None:
    listed = readme_command_table()
    assert len(listed) == len(set(listed)), f"listed twice: {sorted(n for n in listed if listed.count(n) > 1)}"
    assert set(listed) == set(main.commands), (
        f"missing from README.md: {sorted(set(main.commands) - set(listed))}; not commands: {sorted(set(listed) - set(main.commands))}"
    )


def test_cli_reference_is_current() -> None:
    expected = render_reference(main)
    assert (REPO / "docs" / "cli.md").read_text(encoding="utf-8") == expected, f"docs/cli.md is out of date; run: {REGENERATE}"
    for name in main.commands:
        assert f"## `lessons {name}`" in expected and f"Usage: lessons {name} " in expected, name


def test_cli_reference_does_not_depend_on_the_terminal(monkeypatch) -> None:
    wide = render_reference(main)
    monkeypatch.setenv("COLUMNS", "40")
    assert render_reference(main) == wide
    assert max(len(line) for line in command_help(main, "search").splitlines()) <= 100


def test_the_command_line_does_not_import_the_reference() -> None:
    code = "import sys, indexer.cli; print('indexer.cli.reference' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout.strip() == "False"


def test_every_command_has_a_runnable_example() -> None:
    """tests/slow/test_docs_examples.py runs each collected example; every command must have at least one."""
    commands = {example.one_line.split()[1] for example in all_examples(main)}
    assert commands >= set(main.commands), f"no example for: {sorted(set(main.commands) - commands)}"
