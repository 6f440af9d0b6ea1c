"""Knowledge-base settings: `lessons.toml` at the root, overridable by flags and environment variables."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import ConfigError

SETTINGS_FILE = "lessons.toml"

# Chosen by measurement on the development data (bench/search_quality.py); see docs/how-search-works.md.
DEFAULT_DENSE_WEIGHT = 0.95
DEFAULT_DUPLICATE_THRESHOLD = 0.90
DEFAULT_RELATED_THRESHOLD = 0.60


@dataclass
class Settings:
    """What a knowledge base can configure. Every field has a default that works offline."""

    model: str = "bundled"  # "bundled", a local model folder, or a sentence-transformers model name
    dense_weight: float = DEFAULT_DENSE_WEIGHT
    duplicate_threshold: float = DEFAULT_DUPLICATE_THRESHOLD
    related_threshold: float = DEFAULT_RELATED_THRESHOLD
    site_url: str = ""
    repo_url: str = ""
    edit_uri: str = ""
    description: str = ""  # the home page's opening sentence; empty: the default, about small businesses
    chart_min_lessons: int = 3  # a technology needs this many lessons to get a bar in the site's outcome chart


_SECTIONS = {
    "model": {"model": "name"},
    "search": {"dense_weight": "dense_weight", "duplicate_threshold": "duplicate_threshold", "related_threshold": "related_threshold"},
    "site": {
        "site_url": "url",
        "repo_url": "repo_url",
        "edit_uri": "edit_uri",
        "description": "description",
        "chart_min_lessons": "chart_min_lessons",
    },
}

# Keys older knowledge bases may still have, accepted and ignored. [site] search_full_text_limit: lesson pages are no
# longer in the header's keyword search at all (issue 9), so there is no full-text limit to set.
_RETIRED = {"site": ("search_full_text_limit",)}


def load_settings(root: Path) -> Settings:
    """Read `lessons.toml` if present; unknown keys and wrong types are errors that name the file."""
    settings = Settings()
    path = root / SETTINGS_FILE
    if not path.is_file():
        return settings
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    types = {f.name: type(getattr(settings, f.name)) for f in fields(Settings)}
    for section, values in data.items():
        known = _SECTIONS.get(section)
        if known is None or not isinstance(values, dict):
            raise ConfigError(f"{path}: unknown section [{section}]; known sections: {', '.join(_SECTIONS)}")
        by_key = {key: attr for attr, key in known.items()}
        for key, value in values.items():
            if key in _RETIRED.get(section, ()):
                continue
            attr = by_key.get(key)
            if attr is None:
                raise ConfigError(f"{path}: unknown key '{key}' in [{section}]; known keys: {', '.join(by_key)}")
            want = types[attr]
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, want) or isinstance(value, bool):
                raise ConfigError(f"{path}: [{section}] {key} must be a {want.__name__}")
            setattr(settings, attr, value)
    if not 0.0 <= settings.dense_weight <= 1.0:
        raise ConfigError(f"{path}: [search] dense_weight must be between 0 and 1")
    _check_addresses(path, settings)
    return settings


_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?", re.IGNORECASE)
_PATH = re.compile(r"[A-Za-z0-9._~%-]+(/[A-Za-z0-9._~%-]+)*/?")


def _check_addresses(path: Path, settings: Settings) -> None:
    """Addresses end up in links on every page: only http(s) URLs and plain paths, so no `javascript:` link."""
    for key, value in (("url", settings.site_url), ("repo_url", settings.repo_url)):
        if value and not _URL.fullmatch(value):
            raise ConfigError(f"{path}: [site] {key} must be an http(s) address such as https://github.com/org/kb, not {value[:80]!r}")
    edit = settings.edit_uri.strip("/")
    if edit and (not _PATH.fullmatch(edit) or ".." in edit.split("/")):
        raise ConfigError(f"{path}: [site] edit_uri must be a path inside the repository such as edit/main, not {settings.edit_uri[:80]!r}")
