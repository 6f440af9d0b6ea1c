"""The page generator: a plain function from lessons, taxonomy and related lessons to the Markdown pages
(and feed) of the website. It knows nothing of MkDocs or Zensical: any engine that reads mkdocs.yml builds
what it returns. Generated Markdown holds raw HTML made by `fragments`, so every value is escaped here."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from ..core.countries import country_name
from ..core.lesson import Lesson
from ..core.stats import facet_values
from ..core.taxonomy import Taxonomy
from ..core.vocabulary import (
    BROWSE_FACETS,
    FACETS,
    OUTCOME_LABELS,
    OUTCOMES,
    PUBLISHED_STATUSES,
    SIZES,
    WOULD_DO_AGAIN_LABELS,
    size_label,
    translate,
)
from .charts import bar_chart, stacked_chart
from .feed import FEED_XSL, STYLESHEET, atom_feed
from .fragments import LINKS, PRERENDERED, RenderFailed, badge, esc, href, meta_text, money, number, one_line, render_body
from .options import SiteOptions
from .search_page import PAGE as SEARCH_PAGE
from .search_page import page_markdown as search_page


def related_links(lesson: Lesson, related: dict[str, list[str]], by_id: dict[str, Lesson]) -> list[Lesson]:
    """The author's own `related:` lessons first, then those the index found related by meaning (no repeats)."""
    ids = dict.fromkeys(r for r in [*lesson.meta.related, *related.get(lesson.id, [])] if r in by_id and r != lesson.id)
    return [by_id[r] for r in ids]


def published(lessons: list[Lesson]) -> list[Lesson]:
    """The lessons the site shows: drafts and retracted ones are left out."""
    return [lesson for lesson in lessons if lesson.meta.status in PUBLISHED_STATUSES]


@dataclass
class RenderedBodies:
    """Lesson bodies as HTML by lesson id, and the lessons whose body could not be rendered (left out of the site)."""

    bodies: dict[str, str] = field(default_factory=dict)
    failed: list[tuple[Lesson, RenderFailed]] = field(default_factory=list)


def render_bodies(lessons: list[Lesson]) -> RenderedBodies:
    """Render each lesson's body on its own, so a body that cannot be rendered costs only its own lesson."""
    out = RenderedBodies()
    for lesson in lessons:
        try:
            out.bodies[lesson.id] = render_body(lesson.body)
        except RenderFailed as exc:
            out.failed.append((lesson, exc))
    return out


def generate(
    lessons: list[Lesson],
    taxonomy: Taxonomy,
    related: dict[str, list[str]],
    options: SiteOptions,
    bodies: Mapping[str, str] | None = None,
) -> dict[str, str | bytes]:
    """Every generated file of the site: path inside the docs folder -> content. `bodies` are the rendered bodies
    (from `render_bodies`, whose caller reports the failures); a lesson without one is left out everywhere."""
    links = LINKS.set(options.links)
    try:
        return _generate(lessons, taxonomy, related, options, bodies)
    finally:
        LINKS.reset(links)


def _generate(
    lessons: list[Lesson], taxonomy: Taxonomy, related: dict[str, list[str]], options: SiteOptions, bodies: Mapping[str, str] | None
) -> dict[str, str | bytes]:
    if bodies is None:
        bodies = render_bodies(published(lessons)).bodies
    shown = sorted((x for x in published(lessons) if x.id in bodies), key=lambda lesson: (-lesson.meta.date.toordinal(), lesson.id))
    by_id = {lesson.id: lesson for lesson in shown}
    names = Namer(taxonomy)
    files: dict[str, str | bytes] = {}
    for lesson in shown:
        links = related_links(lesson, related, by_id)
        files[f"lessons/{lesson.id}.md"] = lesson_page(lesson, bodies[lesson.id], links, by_id, names, options)
    groups = {facet: _group(shown, facet) for facet in BROWSE_FACETS}
    files["browse/index.md"] = browse_index(groups, names)
    for facet, values in groups.items():
        files[f"browse/{FACETS[facet].url}/index.md"] = facet_index(facet, values, names)
        for value, members in values.items():
            files[f"browse/{FACETS[facet].url}/{_slug(value)}.md"] = facet_page(facet, value, members, names)
    files["index.md"] = home_page(shown, groups, names, options)
    files["stats.md"] = stats_page(shown, groups, names, options.chart_min_lessons)
    files["feed.xml"] = atom_feed(shown[: options.feed_entries], options)
    files[STYLESHEET] = FEED_XSL
    files[SEARCH_PAGE] = search_page(options.contributing_page, taxonomy)
    return files


class Namer:
    """Display names: a facet value's (`names(facet, value, language)`) and a facet's own (`names.facet(...)`),
    in the knowledge base's wording (its taxonomy may rename the company size)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    def __call__(self, facet: str, value: str, language: str = "en") -> str:
        if facet == "sector":
            return self.taxonomy.label("sectors", value, language)
        if facet == "technology":
            return self.taxonomy.label("technologies", value, language)
        if facet == "outcome":
            return translate(OUTCOME_LABELS.get(value, value), language)
        if facet == "company_size":
            return size_label(value, language) if value in SIZES else value
        if facet == "country":
            return country_name(value, language)
        return value

    def facet(self, facet: str, plural: bool = False, language: str = "en") -> str:
        """'Sectors', 'Company size', or what the taxonomy's `wording` calls the company size."""
        if facet == "company_size":
            return self.taxonomy.word("company_sizes" if plural else "company_size", language)
        known = FACETS[facet]
        return translate(known.plural if plural else known.singular, language)


def _slug(value: str) -> str:
    return value.lower()


def _group(lessons: list[Lesson], facet: str) -> dict[str, list[Lesson]]:
    groups: dict[str, list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        for value in facet_values(lesson, facet):
            groups[value].append(lesson)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def _front(title: str, description: str = "", hide_toc: bool = True) -> str:
    """Front matter of a generated page. Every one is left out of the engine's keyword search (lunr), which is for
    the hand-written documentation pages: lessons are searched on the search page, and the generated pages only
    show or list lessons."""
    lines = ["---", f"title: {json.dumps(meta_text(title), ensure_ascii=False)}", "search:", "  exclude: true", PRERENDERED]
    if description:
        lines.append(f"description: {json.dumps(meta_text(one_line(description, 300)), ensure_ascii=False)}")
    if hide_toc:
        lines += ["hide:", "  - toc"]
    return "\n".join([*lines, "---", ""])


def _facet_link(page: str, facet: str, value: str) -> str:
    return href(page, f"browse/{FACETS[facet].url}/{_slug(value)}.md")


def lesson_list(page: str, lessons: list[Lesson], names: Namer, chosen: Collection[str] = (), language: str = "en") -> str:
    """A list of lessons with title, outcome badge, facts and one-line summary; `chosen` ones are marked as the author's pick."""
    items = []
    for lesson in lessons:
        meta = lesson.meta
        country = names("country", meta.country) if meta.country else ""
        facts = " · ".join(esc(x) for x in (names("sector", meta.sector), meta.company_size, country, str(meta.date.year)) if x)
        pick = f' <span class="lesson-chosen">{esc(translate("chosen by the author", language))}</span>' if lesson.id in chosen else ""
        items.append(
            f'<li><a class="lesson-link" href="{esc(href(page, f"lessons/{lesson.id}.md"))}">{esc(meta.title)}</a> '
            f'{badge(meta.outcome)}{pick} <span class="lesson-facts">{facts}</span>'
            f'<br><span class="lesson-summary">{esc(one_line(meta.summary))}</span></li>'
        )
    return '<ul class="lesson-list">\n' + "\n".join(items) + "\n</ul>"


def lesson_page(
    lesson: Lesson,
    body: str,
    related: list[Lesson],
    by_id: dict[str, Lesson],
    names: Namer,
    options: SiteOptions,
) -> str:
    """One lesson: banners, metadata card, sanitised body, related lessons, edit and contribute links."""
    page = f"lessons/{lesson.id}.md"
    meta = lesson.meta
    parts = [_front(meta.title, meta.summary), f'<h1 class="lesson-title">{esc(meta.title)}</h1>', ""]
    if meta.status == "superseded":
        successor = by_id.get(meta.superseded_by or "")
        target = f' by <a href="{esc(href(page, f"lessons/{successor.id}.md"))}">{esc(successor.meta.title)}</a>' if successor else ""
        parts += [
            f'<div class="admonition warning lesson-banner"><p class="admonition-title">Superseded</p>'
            f"<p>This lesson has been replaced{target}.</p></div>",
            "",
        ]
    if meta.sample:
        parts += [
            '<div class="admonition info lesson-banner"><p class="admonition-title">Illustrative lesson</p>'
            f"<p>This is a sample lesson about a fictional {esc(names.taxonomy.word('company'))}, written to show what lessons "
            "look like.</p></div>",
            "",
        ]
    parts += [_card(page, lesson, names), "", f'<p class="lesson-summary-lead">{esc(meta.summary)}</p>', ""]
    parts += [f'<div class="lesson-body" lang="{esc(meta.language)}">', body, "</div>", ""]
    language = meta.language
    parts += [f'<h2 id="related-lessons">{esc(translate("Related lessons", language))}</h2>', ""]
    parts += [
        lesson_list(page, related, names, chosen=set(meta.related), language=language)
        if related
        else f"<p>{esc(translate('No related lesson yet.', language))}</p>",
        "",
    ]
    actions = []
    if options.web_repo() and options.root is not None:
        edit = options.edit_url(lesson.path)
        actions.append(f'<a class="md-button" href="{esc(edit)}" rel="nofollow">{esc(translate("Edit this lesson", language))}</a>')
    contribute = esc(options.share_url() or href(page, options.contributing_page))
    share = esc(translate("Add your own experience", language))
    actions.append(f'<a class="md-button md-button--primary" href="{contribute}">{share}</a>')
    parts += ['<p class="lesson-actions">' + " ".join(actions) + "</p>", ""]
    return "\n".join(parts)


def _card(page: str, lesson: Lesson, names: Namer) -> str:
    """The facts of a lesson, in the lesson's language when the vocabulary and the taxonomy have it."""
    meta = lesson.meta
    lang = meta.language

    def linked(facet: str, value: str) -> str:
        return f'<a href="{esc(_facet_link(page, facet, value))}">{esc(names(facet, value, lang))}</a>'

    size = names.facet("company_size", language=lang)
    rows: list[tuple[str, str]] = [("Sector", linked("sector", meta.sector)), (size, linked("company_size", meta.company_size))]
    if meta.country:
        rows.append(("Country", linked("country", meta.country)))
    rows.append(("Outcome", badge(meta.outcome, _facet_link(page, "outcome", meta.outcome), lang)))
    rows.append(("Technologies", ", ".join(linked("technology", t) for t in meta.technologies)))
    if meta.tags:
        rows.append(("Tags", ", ".join(f'<a href="{esc(_facet_link(page, "tag", t))}">{esc(t)}</a>' for t in meta.tags)))
    if meta.products:
        rows.append(("Products", esc(", ".join(meta.products))))
    if meta.cost_eur is not None:
        rows.append(("Cost", esc(money(meta.cost_eur))))
    if meta.effort_person_days is not None:
        rows.append(("Effort", f"{esc(number(meta.effort_person_days))} {esc(translate('person-days', lang))}"))
    if meta.duration_months is not None:
        rows.append(("Duration", f"{esc(number(meta.duration_months))} {esc(translate('months', lang))}"))
    if meta.would_do_again:
        rows.append(("Would do again", esc(translate(WOULD_DO_AGAIN_LABELS[meta.would_do_again], lang))))
    rows.append(("Date", f'<a href="{esc(_facet_link(page, "year", str(meta.date.year)))}">{esc(meta.date.isoformat())}</a>'))
    rows.append(("Contributor", esc(translate(meta.contributor or "anonymous", lang))))
    body = "".join(f"<dt>{esc(translate(k, lang))}</dt><dd>{v}</dd>" for k, v in rows)
    # left out of the keyword index: its labels and values would run together into one word-salad snippet
    return f'<dl class="lesson-card" lang="{esc(lang)}" data-search-exclude>{body}</dl>'


def browse_index(groups: dict[str, dict[str, list[Lesson]]], names: Namer) -> str:
    page = "browse/index.md"
    parts = [_front("Browse the lessons"), "<h1>Browse the lessons</h1>", ""]
    for facet, values in groups.items():
        links = ", ".join(
            f'<a href="{esc(_facet_link(page, facet, v))}">{esc(names(facet, v))}</a> ({len(m)})' for v, m in list(values.items())[:12]
        )
        parts += [
            f'<h2><a href="{esc(href(page, f"browse/{FACETS[facet].url}/index.md"))}">{esc(names.facet(facet, plural=True))}</a></h2>',
            f"<p>{links or 'None yet.'}</p>",
            "",
        ]
    return "\n".join(parts)


def facet_index(facet: str, values: dict[str, list[Lesson]], names: Namer) -> str:
    page = f"browse/{FACETS[facet].url}/index.md"
    title = f"Lessons by {names.facet(facet, plural=True).lower()}"
    items = "".join(
        f'<li><a href="{esc(_facet_link(page, facet, v))}">{esc(names(facet, v))}</a> <span class="lesson-count">{len(m)}</span></li>'
        for v, m in values.items()
    )
    return "\n".join([_front(title), f"<h1>{esc(title)}</h1>", "", f'<ul class="facet-list">{items}</ul>', ""])


def facet_page(facet: str, value: str, members: list[Lesson], names: Namer) -> str:
    page = f"browse/{FACETS[facet].url}/{_slug(value)}.md"
    title = f"{names.facet(facet)}: {names(facet, value)}"
    outcomes: Counter[str] = Counter(lesson.meta.outcome for lesson in members)
    mix = " ".join(f"{badge(o)} {outcomes[o]}" for o in OUTCOMES if outcomes[o])
    up = href(page, f"browse/{FACETS[facet].url}/index.md")
    return "\n".join(
        [
            _front(title),
            f"<h1>{esc(title)}</h1>",
            "",
            f'<p>{len(members)} lesson(s). {mix} · <a href="{esc(up)}">All {esc(names.facet(facet, plural=True).lower())}</a></p>',
            "",
            lesson_list(page, members, names),
            "",
        ]
    )


def home_page(shown: list[Lesson], groups: dict[str, dict[str, list[Lesson]]], names: Namer, options: SiteOptions) -> str:
    page = "index.md"
    outcomes = groups["outcome"]
    mix = " ".join(f"{badge(o, _facet_link(page, 'outcome', o))} {len(outcomes.get(o, []))}" for o in OUTCOMES if outcomes.get(o))
    parts = [
        _front(options.site_name),
        "<h1>Has anyone tried this?</h1>",
        "",
        f"<p>{esc(options.description)}: what they chose, what it cost, "
        "what went wrong and what they would do differently. Failures are as welcome as successes: they are often the most "
        "useful lessons.</p>",
        "",
        f'<p class="lesson-stats"><strong id="lesson-count">{len(shown)}</strong> lessons from '
        f"<strong>{len(groups['sector'])}</strong> sectors about <strong>{len(groups['technology'])}</strong> technologies.</p>",
        "",
        f'<p class="lesson-search-cta"><a class="md-button md-button--primary" href="{esc(href(page, SEARCH_PAGE))}">'
        "Has anyone tried this? Search the lessons</a></p>",
        "",
        "<h2>Most common outcomes</h2>",
        f'<p class="lesson-outcomes">{mix}</p>',
        "",
        "<h2>Latest lessons</h2>",
        lesson_list(page, shown[: options.latest], names),
        "",
        f'<p><a href="{esc(href(page, "browse/index.md"))}">Browse all lessons</a> · '
        f'<a href="{esc(href(page, "stats.md"))}">Statistics</a> · '
        f'<a href="{esc(href(page, "feed.xml"))}" type="application/atom+xml">Feed of the latest lessons</a> · '
        f'<a href="{esc(options.share_url() or href(page, options.contributing_page))}">Add your own experience</a> · '
        f'<a href="{esc(href(page, options.contributing_page))}">How to write a lesson</a></p>',
        "",
    ]
    return "\n".join(parts)


def stats_page(shown: list[Lesson], groups: dict[str, dict[str, list[Lesson]]], names: Namer, min_lessons: int = 3) -> str:
    """Four charts; the outcome mix shows only technologies with at least `min_lessons` lessons, and says so."""
    sectors = [(names("sector", s), len(m)) for s, m in groups["sector"].items()]
    common = [(t, m) for t, m in groups["technology"].items() if len(m) >= min_lessons]
    techs = sorted(common, key=lambda kv: (-len(kv[1]), kv[0]))[:20]
    mix: list[tuple[str, dict[str, int]]] = [(names("technology", t), dict(Counter(lesson.meta.outcome for lesson in m))) for t, m in techs]
    mix.sort(key=lambda row: -(row[1].get("failure", 0) + row[1].get("abandoned", 0)) / max(sum(row[1].values()), 1))
    buckets = [
        ("under €1k", 0, 1e3),
        ("€1k-5k", 1e3, 5e3),
        ("€5k-20k", 5e3, 2e4),
        ("€20k-100k", 2e4, 1e5),
        ("€100k and more", 1e5, float("inf")),
    ]
    costs = [lesson.meta.cost_eur for lesson in shown if lesson.meta.cost_eur is not None]
    cost_rows = [(label, sum(lo <= c < hi for c in costs)) for label, lo, hi in buckets]
    years = sorted((y, len(m)) for y, m in groups["year"].items())
    charts = [
        ("Lessons per sector", bar_chart("sectors", "Lessons per sector", "Number of lessons in each sector.", sectors)),
        (
            "Which technologies fail most often",
            stacked_chart(
                "outcomes",
                "Outcome mix per technology",
                f"Share of each outcome among the lessons of the {len(techs)} most common technologies with at least "
                f"{min_lessons} lessons each (n = number of lessons), those with the most failures and abandoned projects first.",
                mix,
                list(OUTCOMES),
            ),
        ),
        (
            "What projects cost",
            bar_chart("costs", "Lessons by total cost", f"Number of lessons per cost band ({len(costs)} lessons give a cost).", cost_rows),
        ),
        ("Lessons per year", bar_chart("years", "Lessons per year", "Number of lessons written each year.", years)),
    ]
    parts = [_front("Statistics"), "<h1>Statistics</h1>", "", f"<p>{len(shown)} published lessons.</p>", ""]
    for heading, chart in charts:
        parts += [f"<h2>{esc(heading)}</h2>", "", chart.html(), ""]
        if heading == "Which technologies fail most often":
            parts += [
                f'<p class="lesson-chart-note">Only technologies with at least {min_lessons} lessons are shown: '
                "a share over one or two lessons says little. The numbers on the bars are lessons.</p>",
                "",
            ]
    return "\n".join(parts)
