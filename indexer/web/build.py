"""Building the website: check the lessons, generate the pages into the docs folder the engine reads (only files
whose content changed are written), then run the engine. Related lessons come from the caller, as data."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..core.check import check_knowledge_base
from ..core.files import write_atomic
from ..core.kb import KnowledgeBase, UnsafeFile, read_regular
from ..core.rules import Finding
from ..core.settings import Settings
from ..errors import ConfigError, SiteBuildFailed, ToolMissing
from .options import site_options
from .pages import generate, published, render_bodies
from .search_page import ASSETS, page_files

GENERATED_DIR = Path("docs") / "generated"  # mkdocs.yml's docs_dir; git-ignored but for .gitkeep
STATIC_DIR = Path("docs")  # hand-written pages and assets, copied in beside the generated ones
KEEP = ".gitkeep"
Log = Callable[[str], None]
RelatedLessons = Callable[[set[str]], dict[str, list[str]]]  # ids of the shown lessons -> their related lessons' ids
SearchFiles = Callable[[set[str]], dict[str, bytes]]  # ids of the shown lessons -> the search page's model and data files


@dataclass
class SiteReport:
    """What generation did."""

    lessons: int = 0
    files: int = 0
    written: int = 0
    removed: int = 0
    left_out: list[Finding] = field(default_factory=list)
    hidden: int = 0  # drafts and retracted lessons


def prepare(
    kb: KnowledgeBase,
    settings: Settings,
    out_dir: Path | None = None,
    related: RelatedLessons | None = None,
    log: Log | None = None,
    search_files: SearchFiles | None = None,
    engine: str = "mkdocs",
) -> SiteReport:
    """Generate the site's source into `out_dir` (default docs/generated) for `engine`, which decides how links are
    written. `related` gives the related lessons of the published ones and `search_files` the search page's model and
    data (the caller takes both from the search index); without them, pages list no related lesson and the search
    page says it has no data."""
    out_dir = out_dir or kb.root / GENERATED_DIR
    checked = check_knowledge_base(kb)
    shown = published(checked.lessons)
    rendered = render_bodies(shown)
    failed = [
        Finding(kb.relpath(lesson.path), lesson.body_line + exc.line, 1, "error", exc.rule, exc.message) for lesson, exc in rendered.failed
    ]
    shown = [lesson for lesson in shown if lesson.id in rendered.bodies]
    report = SiteReport(
        lessons=len(shown),
        left_out=[f for f in checked.findings if f.level == "error"] + failed,
        hidden=len(checked.lessons) - len(published(checked.lessons)),
    )
    related_ids = related({lesson.id for lesson in shown}) if (related is not None and shown) else {}
    options = dataclasses.replace(site_options(kb, settings), links="source" if engine == "zensical" else "built")
    files = generate(checked.lessons, kb.taxonomy, related_ids, options, rendered.bodies)
    files.update(static_files(kb.root / STATIC_DIR, out_dir))
    files.update(page_files(kb.root))
    if search_files is not None and shown:
        files.update({f"{ASSETS}/{name}": content for name, content in search_files({lesson.id for lesson in shown}).items()})
    report.files = len(files)
    report.written, report.removed = sync(out_dir, files)
    if log:
        log(
            f"Generated {report.files} files for {report.lessons} lessons into {kb.relpath(out_dir)} "
            f"({report.written} changed, {report.removed} removed)"
        )
    return report


STATIC_LIMIT = 50 * 1024 * 1024  # a hand-written page or asset; larger is a mistake, not a page


def static_files(static: Path, out_dir: Path) -> dict[str, str | bytes]:
    """Hand-written pages and assets under docs/ (not the generated folder), by path relative to docs/. Only regular
    files inside the knowledge base are copied: a link out of it (to /etc/passwd, say) stops the build by name."""
    files: dict[str, str | bytes] = {}
    if not static.is_dir():
        return files
    out = out_dir.resolve()
    for dirpath, dirnames, filenames in os.walk(static, onerror=_unreadable):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if (here / d).resolve() != out and not d.startswith(".")]
        for name in filenames:
            if not name.startswith("."):
                path = here / name
                try:
                    files[path.relative_to(static).as_posix()] = read_regular(path, STATIC_LIMIT, inside=static.parent.resolve())
                except UnsafeFile as exc:
                    raise SiteBuildFailed(f"{path}: {exc.message}") from None
                except OSError as exc:
                    _unreadable(exc)
    return files


def _unreadable(exc: OSError) -> None:
    """A page or folder of docs/ that cannot be read would silently vanish from the site: stop and name it instead."""
    raise SiteBuildFailed(f"{exc.filename}: cannot read ({exc.strerror or exc}); the site would miss it")


def sync(out_dir: Path, files: dict[str, str | bytes]) -> tuple[int, int]:
    """Make `out_dir` hold exactly `files`, writing only what changed (so `mkdocs serve` does not loop)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = removed = 0
    for rel, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        target = out_dir / rel
        if not target.is_file() or target.read_bytes() != data:
            write_atomic(target, data)
            written += 1
    wanted = set(files) | {KEEP}
    for dirpath, _, filenames in os.walk(out_dir, topdown=False, onerror=_unreadable):
        for name in filenames:
            path = Path(dirpath) / name
            if path.relative_to(out_dir).as_posix() not in wanted:
                path.unlink()
                removed += 1
        if dirpath != str(out_dir) and not os.listdir(dirpath):
            os.rmdir(dirpath)
    return written, removed


def build(kb: KnowledgeBase, engine: str = "mkdocs", strict: bool = False, log: Log | None = None) -> Path:
    """Run the engine on the generated pages (already prepared); returns the output folder."""
    config_file = kb.root / "mkdocs.yml"
    if not config_file.is_file():
        raise ConfigError(f"{config_file} not found: the site needs an mkdocs.yml at the knowledge base root")
    if engine == "zensical":
        return _build_zensical(config_file, strict)
    return _build_mkdocs(config_file, strict)


def _build_mkdocs(config_file: Path, strict: bool) -> Path:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s - %(message)s"))
    mkdocs_logger = logging.getLogger("mkdocs")
    mkdocs_logger.addHandler(handler)
    try:
        config = load_config(str(config_file), strict=strict)
        plugin = config.plugins.get("lessons")
        if plugin is not None:
            plugin.skip_generation = True  # the pages were just generated by the caller
        mkdocs_build(config)
    except MkDocsException as exc:
        raise SiteBuildFailed(f"the MkDocs build failed: {exc}") from None
    finally:
        mkdocs_logger.removeHandler(handler)
    return Path(config.site_dir)


def _build_zensical(config_file: Path, strict: bool) -> Path:
    exe = shutil.which("zensical") or str(Path(sys.executable).with_name("zensical"))
    if not Path(exe).exists():
        raise ToolMissing("zensical is not installed: pip install zensical")
    cmd = [exe, "build", "-f", str(config_file), *(["--strict"] if strict else [])]
    proc = subprocess.run(cmd, cwd=config_file.parent, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SiteBuildFailed(f"the Zensical build failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    import yaml

    site_dir = (yaml.safe_load(config_file.read_text()) or {}).get("site_dir", "site")
    return config_file.parent / site_dir
