"""The "Has anyone tried this?" page: its Markdown, its scripts and the browser runtime it needs, all served
by the site itself (never from a CDN). The model and the lessons' data come from the caller, as files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..core.taxonomy import Taxonomy
from ..errors import ToolMissing
from .fragments import PRERENDERED, esc, href

PAGE = "search/index.md"
ASSETS = "assets/search"  # the page's scripts; vendor/, model/ and data/ below it
SCRIPTS = ("search.js", "engine.js", "weights.js", "rank.js", "cards.js", "header.js")
# npm package -> files of its dist/ folder the page loads (the single-threaded WASM build of ONNX Runtime)
VENDOR = {
    "onnxruntime-web": ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"),
    "@huggingface/tokenizers": ("tokenizers.min.mjs",),
}
PROJECT = Path(__file__).resolve().parents[2]  # the checkout holding package.json, when the package is installed editable
INSTALL_HINT = "install Node.js 20 or newer, then run 'npm ci --ignore-scripts' in {where} (scripts/setup does both)"


def page_markdown(contributing_page: str, taxonomy: Taxonomy) -> str:
    """The search page: a form that works as a plain GET form, filled and run by search.js. The size filter's
    name comes from the taxonomy's wording."""
    share = esc(href(PAGE, contributing_page))
    browse = esc(href(PAGE, "browse/index.md"))
    script = esc(href(PAGE, f"{ASSETS}/search.js"))
    size_name = esc(taxonomy.word("company_size"))
    company = esc(taxonomy.word("company"))
    return f"""---
title: Has anyone tried this?
description: Search the lessons by meaning, in your browser.
search:
  exclude: true
{PRERENDERED}
hide:
  - toc
---
<h1>Has anyone tried this?</h1>

<form class="lesson-search" role="search" action="./" method="get" data-share="{share}" data-size-name="{size_name}">
<p class="lesson-search__row"><label class="lesson-search__label" for="lesson-q">Describe what you want to try</label>
<input id="lesson-q" class="lesson-search__input" type="search" name="q" autocomplete="off"
 placeholder="e.g. has anyone tried electronic invoicing?">
<button class="md-button md-button--primary" type="submit">Search</button></p>
<div class="lesson-search__filters" hidden></div>
</form>
<p class="lesson-search__status" role="status" aria-live="polite"></p>
<div class="lesson-nothing" hidden><p><strong>Nobody has written about this yet.</strong>
Have you tried it? <a href="{share}">Share what you learned</a>: it will help the next {company} that asks.</p>
<p>The nearest lessons, though none is about your question:</p></div>
<ol class="lesson-results" aria-label="Lessons found"></ol>
<noscript><p class="lesson-search__noscript">This search runs in your browser and needs JavaScript.
Without it, <a href="{browse}">browse the lessons</a> by sector, technology, outcome, size, country or year.</p></noscript>
<script type="module" src="{script}"></script>
"""


def page_files(kb_root: Path) -> dict[str, str | bytes]:
    """The page's own scripts and the runtime copied from node_modules, by path inside the docs folder."""
    files: dict[str, str | bytes] = {}
    package = resources.files(__package__ or "indexer.web") / "search_js"
    for name in SCRIPTS:
        files[f"{ASSETS}/{name}"] = package.joinpath(name).read_bytes()
    modules = node_modules(kb_root)
    for npm_name, names in VENDOR.items():
        for name in names:
            files[f"{ASSETS}/vendor/{name}"] = (modules / npm_name / "dist" / name).read_bytes()
        licence = modules / npm_name / "LICENSE"  # onnxruntime-web ships none; its package.json says MIT
        if licence.is_file():
            files[f"{ASSETS}/vendor/{npm_name.split('/')[-1]}.LICENSE"] = licence.read_bytes()
    return files


def node_modules(kb_root: Path) -> Path:
    """The node_modules folder holding the page's runtime: the knowledge base's own, else the project's."""
    for base in (kb_root, PROJECT):
        folder = base / "node_modules"
        if all((folder / name / "dist" / files[0]).is_file() for name, files in VENDOR.items()):
            return folder
    where = kb_root if (kb_root / "package.json").is_file() else PROJECT
    raise ToolMissing(f"the search page's browser runtime is missing from {where / 'node_modules'}: " + INSTALL_HINT.format(where=where))
