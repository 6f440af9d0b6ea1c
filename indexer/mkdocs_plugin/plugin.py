"""`plugins: [lessons]` in mkdocs.yml: generate the pages on every build, and watch the lessons when serving."""

from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from .config import LessonsPluginConfig

log = logging.getLogger("mkdocs.plugins.lessons")


class LessonsPlugin(BasePlugin[LessonsPluginConfig]):
    skip_generation = False  # set by `lessons site`, which generates the pages itself just before

    def _kb(self, config):
        from ..kb import find_root

        base = Path(config.config_file_path).parent
        return find_root(explicit=base / self.config.root if self.config.root else base)

    def on_config(self, config):
        if not self.config.enabled or self.skip_generation:
            return config
        from ..errors import LessonsError
        from ..site import prepare

        try:
            kb = self._kb(config)
            report = prepare(kb, _settings(kb), Path(config.docs_dir), index_loader=_index_loader(kb) if self.config.related else None,
                             log=log.info)
        except LessonsError as exc:
            raise PluginError(f"lessons: {exc}") from None
        for finding in report.left_out:
            log.warning(f"{finding.format()} (left out of the site)")
        return config

    def on_serve(self, server, config, builder):
        if self.config.enabled:
            kb = self._kb(config)
            server.watch(str(kb.lessons_dir))
            server.watch(str(kb.root / "docs"))  # hand-written pages; generated ones are only rewritten when they change
        return server


def _settings(kb):
    from ..settings import load_settings

    return load_settings(kb.root)


def _index_loader(kb):
    def load():
        from ..engine import model_spec, open_embedder, ready_index

        embedder, identity = open_embedder(kb, model_spec(_settings(kb)), log.info)
        return ready_index(kb, embedder, identity, log=log.info)
    return load
