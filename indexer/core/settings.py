"""Knowledge-base settings: `lessons.toml` at the root, overridable by flags and environment variables."""

from __future__ import annotations

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
    search_full_text_limit: int = 2000


_SECTIONS = {
    "model": {"model": "name"},
    "search": {"dense_weight": "dense_weight", "duplicate_threshold": "duplicate_threshold", "related_threshold": "related_threshold"},
    "site": {"site_url": "url", "repo_url": "repo_url", "edit_uri": "edit_uri", "search_full_text_limit": "search_full_text_limit"},
}


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
    return settings
