"""The "Has anyone tried this?" page in Chromium: the same answers as `lessons search`, filters in the URL, an honest
empty answer, and safe with hostile lessons, without JavaScript, under a sub-path and under a strict CSP."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, urlencode

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.cli import main
from tests.helpers import PAGE_QUERIES as QUERIES
from tests.slow.conftest import CSP_PATH, HOSTILE_SEARCH_ID, SUB_PATH

pytestmark = [pytest.mark.slow, pytest.mark.browser]
MODEL_WAIT = 90_000  # ms: the first semantic answer on a loaded two-core machine
# the page's Cache Storage (named after the site's path) holds the model's two files, of one version
STORED = """caches.keys()
  .then((names) => Promise.all(names.filter((n) => n.startsWith("lessons-search-model ")).map((n) => caches.open(n).then((c) => c.keys()))))
  .then((stores) => stores.length === 1 && stores[0].length === 2)"""


def _run(page, url: str, query: str | None = None) -> tuple[str, list[str]]:
    """Open `url` (or, with `query`, type it into the box of the page already open) and wait for the page's answer."""
    if query is None:
        page.goto(url)
    else:
        page.fill("#lesson-q", query)
    page.wait_for_function(
        "q => ['semantic', 'nothing-close'].includes(document.documentElement.dataset.searchState)"
        " && (q === null || document.documentElement.dataset.searchQuery === q)",
        arg=query,
        timeout=MODEL_WAIT,
    )
    ids = page.eval_on_selector_all("[data-lesson-id]", "nodes => nodes.map(n => n.dataset.lessonId)")
    return page.evaluate("document.documentElement.dataset.searchState"), ids


def _cli(site_kb: Path, model_cache: Path, *args: str) -> tuple[bool, list[str]]:
    """`lessons search --json`: whether nothing is close, and the lessons' ids."""
    result = CliRunner().invoke(
        main, ["--root", str(site_kb), "search", "--json", "--no-refresh", *args], env={"LESSONS_CACHE_DIR": str(model_cache)}
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    return answer["nothing_close"], [hit["id"] for hit in answer["results"]]


def _passages(site_kb: Path, model_cache: Path) -> dict[str, list[str]]:
    """Each lesson's indexed passages, as the page's snippets show them (markup characters dropped, spaces collapsed)."""
    import re

    from indexer.core.kb import find_root
    from indexer.core.settings import load_settings
    from indexer.search.session import open_session

    data = open_session(find_root(explicit=site_kb), load_settings(site_kb), cache_dir=model_cache, refresh=False).index
    passages: dict[str, list[str]] = {}
    for number, row in enumerate(data.passage_lesson):
        plain = re.sub(r"\s+", " ", re.sub(r"[*_`#>|]+", "", data.passage(number))).strip()
        passages.setdefault(data.ids[row], []).append(plain)
    return passages


def test_same_answers_as_the_command_line(page, server: str, site_kb: Path, model_cache: Path) -> None:
    _run(page, f"{server}search/?q={quote(QUERIES[0])}")
    top1 = overlap = 0.0
    differences = []
    passages = _passages(site_kb, model_cache)
    for query in QUERIES:
        state, browser = _run(page, "", query)
        # each card shows a passage of its own lesson (the text shards are read by each lesson's place in its shard)
        for lesson_id, shown in zip(browser, page.locator(".lesson-passage").all_inner_texts()):
            assert any(shown.strip("…") in passage for passage in passages[lesson_id]), (query, lesson_id, shown)
        nothing_close, cli = _cli(site_kb, model_cache, query)
        assert state == ("nothing-close" if nothing_close else "semantic") and len(cli) == 5, (query, state)
        top1 += browser[0] == cli[0]
        overlap += len(set(browser[:5]) & set(cli)) / 5
        if browser[:5] != cli:
            differences.append((query, browser[:5], cli))
    n = len(QUERIES)
    # the page runs the int8 model against int8 passage vectors; the CLI runs fp32 (see docs/how-search-works.md)
    assert top1 / n >= 0.95 and overlap / n >= 0.95, differences


def test_page_ranking_agrees_with_the_command_line(site_root: Path, site_kb: Path, model_cache: Path) -> None:
    """The page's two stages (search/page.py, which rank.js follows) against rank.answer, both fed the CLI's own
    query vectors, so that only the vectors the page downloads differ: signs, then int8 for the candidates."""
    from indexer.core.kb import find_root
    from indexer.core.settings import load_settings
    from indexer.search import page, rank
    from indexer.search.expansion import expand
    from indexer.search.session import open_session

    kb = find_root(explicit=site_kb)
    session = open_session(kb, load_settings(site_kb), cache_dir=model_cache, refresh=False)
    data, embedder = session.index, session.embedder
    rows = [r for r in range(data.size) if data.facets["status"][r] == "published"]
    counts = np.bincount(data.passage_lesson, minlength=data.size)[rows]
    vectors = page.PageVectors.of(data.matrix[np.isin(data.passage_lesson, rows)], rows, counts.tolist())
    allowed = rank.allowed_lessons(data, rank.Filters())
    assert page.CANDIDATES < len(rows)  # the first stage cuts
    top1 = overlap = 0.0
    for query in QUERIES:
        cli = [h.id for h in session.answer([query], top_k=5)[0].hits]
        pair = tuple(embedder.encode([query, expand(query, kb.taxonomy).dense_text(query)]))
        found = page.answer(data, vectors, query, pair, allowed, 5, session.settings.dense_weight, kb.taxonomy)
        ids = [data.ids[row] for row in found.rows]
        top1 += ids[0] == cli[0]
        overlap += len(set(ids) & set(cli)) / 5
    assert top1 / len(QUERIES) >= 0.95 and overlap / len(QUERIES) >= 0.95


def test_filters_in_the_url_and_in_the_menus(page, server: str, site_kb: Path, model_cache: Path) -> None:
    query = "moving our invoices and accounts to new software"
    params = {"q": query, "outcome": "success", "size": "small", "since": "2023"}
    state, ids = _run(page, f"{server}search/?{urlencode(params)}")
    _, cli = _cli(site_kb, model_cache, query, "--outcome", "success", "--size", "small", "--since", "2023-01-01")
    assert state == "semantic" and ids[:5] == cli and len(cli) >= 2
    assert page.input_value("#lesson-q") == query
    assert page.input_value("#lesson-filter-outcome") == "success" and page.input_value("#lesson-filter-size") == "small"
    for badge in page.locator(".lesson-result .lesson-badge").all_inner_texts():
        assert badge == "Success"
    page.select_option("#lesson-filter-outcome", "failure")  # a menu changes the URL and the answer
    page.wait_for_url("**outcome=failure**")
    page.wait_for_function("[...document.querySelectorAll('.lesson-result .lesson-badge')].every(b => b.textContent === 'Failure')")
    assert "size=small" in page.url and f"q={quote(query).replace('%20', '+')}" in page.url


def test_nothing_close_says_so_as_the_command_line_does(page, server: str, site_kb: Path, model_cache: Path) -> None:
    far, near = "xylophone tuning for string quartets", "e-invoicing"
    assert _cli(site_kb, model_cache, far)[0] and not _cli(site_kb, model_cache, near)[0]  # the CLI's verdicts
    state, ids = _run(page, f"{server}search/?q={quote(far)}")
    # the nearest ones are still listed; far from everything, their order is within the int8 model's rounding
    assert state == "nothing-close" and len(ids) == 10
    assert page.locator(".lesson-nothing").is_visible()
    assert "Nobody has written about this yet" in page.locator(".lesson-nothing").inner_text()
    assert page.locator(".lesson-nothing a").get_attribute("href").endswith("contributing/")
    state, _ = _run(page, "", near)
    assert state == "semantic" and not page.locator(".lesson-nothing").is_visible()


def test_keyword_answers_come_first_and_stay_when_the_model_cannot_load(page, server: str) -> None:
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server}search/")
    page.wait_for_function("document.documentElement.dataset.searchState === 'idle'")
    page.wait_for_timeout(300)
    assert not any(url.endswith((".onnx", ".wasm", "signs.bin", "keyword.bin")) for url in requested)  # nothing heavy yet
    page.route("**/model/model.onnx*", lambda route: route.abort())  # the graph, whatever its version
    page.fill("#lesson-q", "e-invoicing")
    page.wait_for_function("document.documentElement.dataset.searchState === 'keyword' && document.querySelector('[data-lesson-id]')")
    page.wait_for_function("document.querySelector('.lesson-search__status').textContent.includes('could not start')")
    page.wait_for_load_state("networkidle")  # the model's other files stopped, or arrived: the note stays the failure's
    assert "could not start" in page.locator(".lesson-search__status").inner_text()
    ids = page.eval_on_selector_all("[data-lesson-id]", "nodes => nodes.map(n => n.dataset.lessonId)")
    assert "einvoicing-rollout-print-shop" in ids and page.evaluate("document.documentElement.dataset.searchState") == "keyword"


def test_the_model_is_kept_for_the_next_visit(page, server: str) -> None:
    url = f"{server}search/?q={quote(QUERIES[0])}"
    page.goto(f"{server}search/")  # a visitor of an earlier build, whose store had another name
    page.evaluate("caches.open('lessons-search-model').then((c) => c.put('/old-model', new Response('old')))")
    state, first = _run(page, url)
    assert state == "semantic"
    # stored once the first answer is shown: the graph and its weights, under this model version only
    page.wait_for_function(STORED, polling=200)
    page.wait_for_function("caches.has('lessons-search-model').then((has) => !has)", polling=200)
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.route("**/model/model.*", lambda route: route.abort())  # the second visit cannot download the model
    state, again = _run(page, url)
    assert state == "semantic" and again == first
    assert not [url for url in fetched if "/model/model." in url]


def test_a_lesson_file_that_fails_says_so_and_is_tried_again(page, server: str) -> None:
    failing = "**/data/passages-*.json"
    page.route(failing, lambda route: route.abort())
    page.goto(f"{server}search/?q={quote(QUERIES[0])}")
    page.wait_for_function("document.documentElement.dataset.searchState === 'error'", timeout=MODEL_WAIT)
    assert "could not be loaded" in page.locator(".lesson-search__status").inner_text()
    page.unroute(failing)
    state, ids = _run(page, "", QUERIES[0].upper())  # the same question, as the model reads it: the texts come now
    assert state == "semantic" and ids


def test_without_javascript_it_says_to_browse(browser, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(f"{server}search/?q=backups")
    text = tab.locator("noscript").first.text_content() or ""
    context.close()
    assert "needs JavaScript" in text and "browse the lessons" in text


def test_hostile_lesson_fields_stay_text(page, server: str) -> None:
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    state, ids = _run(page, f"{server}search/?q={quote('hostile invoicing spreadsheets')}&sector=other")
    assert state == "semantic" and HOSTILE_SEARCH_ID in ids, ids
    card = page.locator(f"[data-lesson-id={HOSTILE_SEARCH_ID}]")
    assert "<img src=x onerror=window.__xss=30>" in card.locator("a.lesson-link").inner_text()
    assert card.locator("img, script").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined" and dialogs == []


@pytest.mark.parametrize("prefix", [SUB_PATH, CSP_PATH], ids=["sub-path", "strict-csp"])
def test_served_from_a_sub_path_and_under_a_strict_csp(page, server: str, prefix: str) -> None:
    requested, errors = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    state, ids = _run(page, f"{server}{prefix.strip('/')}/search/?q={quote('has anyone tried e-invoicing?')}")
    assert state == "semantic" and ids[0] == "einvoicing-rollout-print-shop", errors
    local = [url for url in requested if url.startswith(server)]
    assert all(url.startswith(server + prefix.strip("/") + "/") for url in local), [u for u in local if prefix not in u]
    href = page.locator("[data-lesson-id] a.lesson-link").first.get_attribute("href")
    assert href.startswith(f"{server}{prefix.strip('/')}/lessons/")
