"""Domain errors. The library raises these; only the CLI turns them into messages and exit codes."""

from __future__ import annotations


class LessonsError(Exception):
    """Base class for every error the tool reports to a user."""


class UsageError(LessonsError):
    """The user asked for something that cannot be done as asked (exit code 2)."""


class KnowledgeBaseNotFound(UsageError):
    """No knowledge base (a folder with `lessons/`) at or above the starting folder."""


class TaxonomyError(LessonsError):
    """The taxonomy file is missing or malformed."""
