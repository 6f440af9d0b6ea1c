"""`plugins: [lessons]` in mkdocs.yml: generate the pages on every build, and watch the lessons when serving.

Thin on purpose: the pages come from the project's page generator (`indexer.web`), which any engine can use.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from .config import LessonsPluginConfig

log = logging.getLogger("mkdocs.plugins.lessons")


class LessonsPlugin(BasePlugin[LessonsPluginConfig]):
    skip_generation = False  # set by `lessons site`, which generates the pages itself just before

    def __init__(self) -> None:
        self._prerendered: dict[str, str] = {}  # the HTML of the generated pages being built, by source path

    def _kb(self, config: Any) -> Any:
        from ..core.kb import find_root

        base = Path(config.config_file_path).parent
        return find_root(explicit=base / self.config.root if self.config.root else base)

    def on_config(self, config: Any) -> Any:
        if not self.config.enabled:
            return config
        from ..core.settings import load_settings
        from ..errors import LessonsError
        from ..search.session import open_session
        from ..web.build import prepare
        from ..web.options import repository_link

        try:
            kb = self._kb(config)
            settings = load_settings(kb.root)
            if not config.repo_url:  # the header's repository link, from lessons.toml unless mkdocs.yml sets one
                config.repo_url, config.repo_name = repository_link(settings.repo_url)
            if config.theme.name == "material":  # a plain repository link: Material's own asks GitHub's API
                config.theme.dirs.insert(0, str(Path(__file__).parent / "overrides"))
            if self.skip_generation:
                return config
            cache = os.environ.get("LESSONS_CACHE_DIR")
            session = open_session(
                kb, settings, model=os.environ.get("LESSONS_MODEL"), cache_dir=Path(cache) if cache else None, log=log.info
            )
            report = prepare(
                kb,
                settings,
                Path(config.docs_dir),
                related=session.related if self.config.related else None,
                log=log.info,
                search_files=session.browser_files if self.config.search else None,
            )
        except LessonsError as exc:
            raise PluginError(f"lessons: {exc}") from None
        for finding in report.left_out:
            log.warning(f"{finding.format()} (left out of the site)")
        return config

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Any) -> str:
        """A generated page is HTML already (see `web.fragments.PRERENDERED`): keep it aside and give Markdown nothing
        to parse, which saved most of the build's time with thousands of lessons; `on_page_content` puts it back."""
        mark = page.meta.get("lessons")
        if self.config.enabled and isinstance(mark, dict) and mark.get("prerendered") is True:
            self._prerendered[page.file.src_uri] = markdown.strip()
            return ""
        return markdown

    def on_page_content(self, html: str, *, page: Any, config: Any, files: Any) -> str:
        return self._prerendered.pop(page.file.src_uri, html)

    def on_serve(self, server: Any, config: Any, builder: Any) -> Any:
        if self.config.enabled:
            kb = self._kb(config)
            server.watch(str(kb.lessons_dir))
            server.watch(str(kb.root / "docs"))  # hand-written pages; generated ones are only rewritten when they change
        return server
