"""What the generated pages need besides the lessons: the site's settings, made from `lessons.toml`."""

from __future__ import annotations

import datetime as dt
import re
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
    latest: int = 10
    feed_entries: int = 30
    contributing_page: str = "contributing.md"
    root: Path | None = None  # the knowledge base, to make "Edit this lesson" links
    today: dt.date = field(default_factory=dt.date.today)
    issue_template: str = "lesson.yml"  # the issue form "Add your own experience" opens, in .github/ISSUE_TEMPLATE/
    chart_min_lessons: int = 3  # a bar of the outcome chart needs this many lessons; fewer would give 100% bars over 1 or 2
    links: str = "built"  # how the pages' links are written for the engine: see fragments.LINKS

    def web_repo(self) -> str:
        """The repository's web address, only if it is an http(s) URL (a javascript: URL would run on click)."""
        url = self.repo_url.strip().rstrip("/")
        return url if re.match(r"https?://[^\s\"'<>]+$", url) else ""

    def edit_url(self, path: Path) -> str:
        """Where "Edit this lesson" points: repo_url / edit_uri / the file's path in the repository."""
        source = path.resolve().relative_to((self.root or path.parent).resolve()).as_posix()
        return "/".join(part.strip("/") for part in (self.web_repo(), self.edit_uri, source) if part.strip("/"))

    def share_url(self) -> str:
        """The new-issue page with the lesson form, when the repository is on GitHub; '' otherwise."""
        repo = self.web_repo()
        return f"{repo}/issues/new?template={self.issue_template}" if repo.startswith("https://github.com/") else ""


def site_options(kb: KnowledgeBase, settings: Settings, today: dt.date | None = None) -> SiteOptions:
    """The options of `kb`'s site, from its settings."""
    return SiteOptions(
        site_url=settings.site_url,
        repo_url=settings.repo_url,
        edit_uri=settings.edit_uri,
        description=settings.description or DEFAULT_DESCRIPTION,
        chart_min_lessons=settings.chart_min_lessons,
        root=kb.root,
        today=today or dt.date.today(),
    )


def repository_link(repo_url: str) -> tuple[str | None, str | None]:
    """The site header's repository link and its name ('owner/name'), or (None, None) unless it is an http(s) URL."""
    url = SiteOptions(repo_url=repo_url).web_repo()
    if not url:
        return None, None
    return url, "/".join(url.split("/")[3:5]) or url.split("/")[2]
