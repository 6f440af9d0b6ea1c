"""Options of the `lessons` MkDocs plugin."""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c


class LessonsPluginConfig(base.Config):
    enabled = c.Type(bool, default=True)
    # knowledge-base root, relative to mkdocs.yml (default: the folder of mkdocs.yml)
    root = c.Type(str, default="")
    # related lessons come from the search index (built or refreshed during the build)
    related = c.Type(bool, default=True)
    # the "Has anyone tried this?" page's model and lesson data come from the search index too
    search = c.Type(bool, default=True)
