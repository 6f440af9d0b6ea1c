"""Every domain error. The library raises these; only the entry points (CLI, MkDocs plugin) turn them into
messages and exit codes.

Exit codes mean one thing each: 1, the lessons have problems or the work failed (a finding, a damaged index,
a failed site build); 2, the command was asked for something that cannot be done as asked; 3, the
environment around the command is broken (a configuration file, a missing program, the model).
"""

from __future__ import annotations

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


class LessonsError(Exception):
    """Base class for every error the tool reports to a user: the work could not be done (exit code 1)."""

    exit_code = EXIT_FINDINGS


class UsageError(LessonsError):
    """The user asked for something that cannot be done as asked (exit code 2)."""

    exit_code = EXIT_USAGE


class KnowledgeBaseNotFound(UsageError):
    """No knowledge base (a folder with `lessons/`) at or above the starting folder."""


class EnvironmentProblem(LessonsError):
    """Something around the command is broken or missing: a file to fix or a program to install (exit code 3)."""

    exit_code = EXIT_ENVIRONMENT


class ConfigError(EnvironmentProblem):
    """A configuration file of the knowledge base (`lessons.toml`, `mkdocs.yml`) is missing, unreadable or wrong."""


class TaxonomyError(EnvironmentProblem):
    """The taxonomy file is missing or malformed."""


class ToolMissing(EnvironmentProblem):
    """A program the command runs (git, zensical) is not installed, or cannot work here (git outside a repository)."""


class FolderUnreadable(EnvironmentProblem):
    """A folder of the knowledge base cannot be read, and the command cannot answer without its files."""


class ToolFailed(EnvironmentProblem):
    """A program the command runs (git) failed; the message gives its reason."""


class ModelError(EnvironmentProblem):
    """The embedding model cannot be found, verified, exported or loaded."""


class IndexProblem(LessonsError):
    """The index cannot be used as it is; the message says how to rebuild."""


class IndexMissing(IndexProblem):
    """There is no index yet."""


class IndexOutdated(IndexProblem):
    """The index was written by an older version of lessons; `lessons index` updates it, keeping its vectors."""


class IndexDamaged(IndexProblem):
    """An index file does not match its recorded checksum or cannot be read; `lessons index` repairs it."""


class IndexFolderBlocked(EnvironmentProblem):
    """Something in the way of the index folder (a file at `.lessons`, a folder at `.lessons/lock`): the message names it."""


class IndexLocked(LessonsError):
    """Another process is writing the index."""


class SiteBuildFailed(LessonsError):
    """The site engine (MkDocs or Zensical) reported an error."""
