"""What every command shares: the group that turns domain errors into exit codes, the option bundles, and
finding the knowledge base and its search session from the command line. Environment variables are read
here, as the options' twins, and nowhere below."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..core.characters import for_terminal
from ..errors import EXIT_ENVIRONMENT, LessonsError, UsageError

if TYPE_CHECKING:
    from ..core.kb import KnowledgeBase
    from ..core.settings import Settings
    from ..search.session import SearchSession

F = TypeVar("F", bound=Callable[..., Any])


class EnvironmentFailure(click.ClickException):
    """A broken environment as click shows it: 'Error: message' on stderr, exit code 3."""

    exit_code = EXIT_ENVIRONMENT


# The packages of the `search` extra that the light install leaves out (import names).
SEARCH_MODULES = frozenset(
    {"numpy", "torch", "sentence_transformers", "transformers", "faiss", "onnx", "onnxruntime", "tokenizers", "mkdocs"}
)
SEARCH_INSTALL = "pip install 'lessons-kb[search]'"


def search_installed() -> bool:
    """Whether the `search` extra (index, model, website engine) is installed, without importing any of it."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("numpy", "faiss", "onnxruntime", "tokenizers"))


class LessonsGroup(click.Group):
    """Turns domain errors into one-line messages and exit codes: 2 for usage, 3 for the environment, 1 for the rest."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(for_terminal(str(exc)), self._command_context(ctx)) from None
        except LessonsError as exc:  # messages quote file names and values: no control character reaches the terminal
            failure = EnvironmentFailure if exc.exit_code == EXIT_ENVIRONMENT else click.ClickException
            raise failure(for_terminal(str(exc))) from None
        except ModuleNotFoundError as exc:
            # the light install: a command that needs the search stack says which install adds it
            if (exc.name or "").split(".")[0] not in SEARCH_MODULES:
                raise
            command = ctx.invoked_subcommand or "this command"
            raise EnvironmentFailure(
                f"lessons {command} needs the search extra, which is not installed (no module '{exc.name}'): {SEARCH_INSTALL}"
            ) from None

    def _command_context(self, ctx: click.Context) -> click.Context:
        """The context of the sub-command that failed, so the message shows its usage ('lessons search [OPTIONS]
        [QUERY]'), not the whole tool's."""
        name = ctx.invoked_subcommand
        command = self.get_command(ctx, name) if name else None
        return click.Context(command, info_name=name, parent=ctx) if command else ctx


def knowledge_base(ctx: click.Context) -> KnowledgeBase:
    """The knowledge base the command works on: --root / LESSONS_ROOT, or the nearest one at or above here."""
    from ..core.kb import find_root

    return find_root(explicit=ctx.find_root().obj.get("root"))


def settings_of(kb: KnowledgeBase) -> Settings:
    from ..core.settings import load_settings

    return load_settings(kb.root)


def model_options(command: F) -> F:
    """--model and --cache-dir, for every command that embeds text."""
    command = click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="LESSONS_CACHE_DIR",
        help="Folder for the model's ONNX export (default: .lessons/models). Env: LESSONS_CACHE_DIR.",
    )(command)
    return click.option(
        "--model",
        envvar="LESSONS_MODEL",
        metavar="SPEC",
        help="Embedding model: 'bundled' (default, offline), a local folder or a model name. "
        "Env: LESSONS_MODEL. Default from lessons.toml.",
    )(command)


def refresh_option(command: F) -> F:
    return click.option("--no-refresh", is_flag=True, help="Use the index as it is, even if lessons changed since it was built.")(command)


def json_option(help: str = "Print JSON (for scripts) instead of text.") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def open_search(
    kb: KnowledgeBase, settings: Settings, model: str | None, cache_dir: Path | None, refresh: bool = True, fast_start: bool = True
) -> SearchSession:
    """The knowledge base's search session, logging and drawing progress on stderr."""
    from ..search.session import open_session
    from .terminal import log, progress_bar

    return open_session(
        kb, settings, model=model, cache_dir=cache_dir, refresh=refresh, log=log, progress=progress_bar, fast_start=fast_start
    )
