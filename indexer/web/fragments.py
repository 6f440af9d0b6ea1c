"""HTML fragments for the generated pages. Every value from a lesson is escaped here, and lesson bodies
are sanitised with nh3 (the Ammonia sanitiser) to a small allow-list, so no engine ever sees their markup."""

from __future__ import annotations

import contextvars
import functools
import html
import posixpath
import re
from typing import TYPE_CHECKING

import nh3

from ..core.characters import printable
from ..core.prescan import scan_body
from ..core.vocabulary import OUTCOME_LABELS, translate

if TYPE_CHECKING:
    import markdown

# Every id in a lesson body starts with this, so no heading can take the name of a global the theme's script
# reads (`## __config`, `## search`, `## location`: an element id becomes a property of window).
BODY_ID_PREFIX = "lesson-"

# Front matter of every generated page, which is HTML already: Markdown returns it unchanged, after parsing all of it
# as HTML. The MkDocs plugin spots this mark and skips that pass; other engines convert the page, to the same HTML.
PRERENDERED = "lessons:\n  prerendered: true"

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "sup",
    "sub",
    "abbr",
    "dl",
    "dt",
    "dd",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "th": {"align"},
    "td": {"align"},
    "abbr": {"title"},
    "ol": {"start"},
}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def meta_text(value: str) -> str:
    """Text for a page's front matter (title, description). Themes print these without escaping, so the
    characters that could open a tag or leave an attribute are replaced by look-alikes, and invisible characters
    (which YAML refuses, so MkDocs would print the front matter as text) are dropped."""
    return printable(value).replace("<", "‹").replace(">", "›").replace('"', "”")


def url_of(md_path: str) -> str:
    """The directory URL a Markdown source gets: 'lessons/x.md' -> 'lessons/x/', 'index.md' -> ''."""
    if not md_path.endswith(".md"):
        return md_path
    stem = md_path[:-3]
    if stem == "index" or stem.endswith("/index"):
        return stem[:-5]
    return stem + "/"


# How `href` writes links into the pages' HTML, set while the pages are generated. "built": relative between the
# built pages' URLs, for MkDocs, which leaves links in HTML alone. "source": relative to the Markdown file's folder,
# for Zensical, which resolves every relative link of a page against its source file and rewrites it.
LINKS: contextvars.ContextVar[str] = contextvars.ContextVar("links", default="built")


def href(from_md: str, to_path: str) -> str:
    """A relative link from the page built from `from_md` to the page or file `to_path`."""
    base = posixpath.dirname(from_md) if LINKS.get() == "source" else url_of(from_md)
    target = url_of(to_path)
    rel = posixpath.relpath(target or ".", base or ".")
    if to_path.endswith(".md") and rel != ".":
        rel += "/"
    return "./" if rel == "." else rel


class RenderFailed(Exception):
    """A body the site does not render: the rule it breaks, what to do, and the 0-based line in the body."""

    def __init__(self, rule: str, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.rule, self.message, self.line = rule, message, line


def render_body(markdown_text: str) -> str:
    """A lesson body as safe HTML: Markdown rendered, then cleaned by nh3 to the allow-list.

    Raises RenderFailed for a body past the pre-scan's bounds (the same bounds `lessons check` reports) and for
    any failure of the renderer, so one lesson can never stop a build."""
    limits = scan_body(markdown_text)
    if limits:
        raise RenderFailed(limits[0].rule, limits[0].message, limits[0].line)
    try:
        rendered = _markdown().reset().convert(markdown_text)
    except RecursionError:
        raise RenderFailed("render-failed", "the body is nested too deeply to render: flatten its lists and quotes") from None
    except Exception as exc:  # a bug of the renderer on odd input must cost one lesson, not the build
        raise RenderFailed("render-failed", f"the Markdown renderer failed ({type(exc).__name__}): simplify the body") from None
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        id_prefix=BODY_ID_PREFIX,
        attribute_filter=_same_page_link,
    )


@functools.cache
def _markdown() -> markdown.Markdown:
    """One renderer for every body, reset before each: making one per body cost a tenth of the rendering."""
    import markdown

    return markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists", "toc"], output_format="html")


def _same_page_link(tag: str, attribute: str, value: str) -> str:
    """Links to a heading of the same body follow its id's prefix."""
    if attribute == "href" and value.startswith("#") and not value.startswith("#" + BODY_ID_PREFIX):
        return "#" + BODY_ID_PREFIX + value[1:]
    return value


def badge(outcome: str, link: str | None = None, language: str = "en") -> str:
    label = esc(translate(OUTCOME_LABELS.get(outcome, outcome), language))
    css = f"lesson-badge lesson-badge--{esc(outcome)}"
    return f'<a class="{css}" href="{esc(link)}">{label}</a>' if link else f'<span class="{css}">{label}</span>'


def one_line(text: str, limit: int = 220) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: text.rfind(" ", 0, limit)] + "…"


def money(value: float) -> str:
    return f"€{value:,.0f}"


def number(value: float) -> str:
    return f"{value:g}"
