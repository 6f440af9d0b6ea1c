"""What the generated pages need besides the lessons: the site's settings, made from `lessons.toml`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..core.kb import KnowledgeBase
from ..core.settings import Settings

DEFAULT_DESCRIPTION = "Lessons learned by small and medium businesses when they adopt technology"


@dataclass
class SiteOptions:
    """What the pages need besides the lessons."""

    site_name: str = "lessons-kb"
    site_url: str = ""
    repo_url: str = ""
    edit_uri: str = ""
    description: str = DEFAULT_DESCRIPTION
    full_text_limit: int = 2000  # above this many lessons, search indexes title, summary and metadata only
    latest: int = 10
    feed_entries: int = 30
    contributing_page: str = "contributing.md"
    root: Path | None = None  # the knowledge base, to make "Edit this lesson" links
    today: dt.date = field(default_factory=dt.date.today)


def site_options(kb: KnowledgeBase, settings: Settings, today: dt.date | None = None) -> SiteOptions:
    """The options of `kb`'s site, from its settings."""
    return SiteOptions(
        site_url=settings.site_url,
        repo_url=settings.repo_url,
        edit_uri=settings.edit_uri,
        description=settings.description or DEFAULT_DESCRIPTION,
        full_text_limit=settings.search_full_text_limit,
        root=kb.root,
        today=today or dt.date.today(),
    )
