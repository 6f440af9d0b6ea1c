"""The `lessons` command line: thin click commands over the library.

Each command parses options, calls one library function and formats the result. Library modules
are imported inside commands so `lessons --help` and `lessons check` never load the heavy ones.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import LessonsError, UsageError


class _Group(click.Group):
    """Turns domain errors into one-line messages and exit codes: 2 for usage, 1 for the rest."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(str(exc), ctx) from None
        except LessonsError as exc:
            raise click.ClickException(str(exc)) from None


def _kb(ctx: click.Context):
    from .kb import find_root

    return find_root(explicit=ctx.obj.get("root"))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lessons")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="LESSONS_ROOT",
              help="Knowledge-base folder (default: the nearest folder at or above this one that has lessons/). Env: LESSONS_ROOT.")
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    """Lessons learned by SMEs adopting technology: check, index, search and publish them.

    \b
    Examples:
      lessons check                 validate every lesson
      lessons new                   start a new lesson from the template
      lessons stats --json          counts by sector, technology, outcome...
    """
    ctx.ensure_object(dict)
    ctx.obj["root"] = root


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors (what the knowledge base's CI uses).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json prints the same findings for bots and editors.")
@click.pass_context
def check(ctx: click.Context, paths: tuple[Path, ...], strict: bool, fmt: str) -> None:
    """Validate lessons: front matter, sections, privacy, HTML safety, references.

    Checks every lesson of the knowledge base, or only PATHS (files or folders). Prints one line
    per problem as path:line:col: level: [rule] message, then a summary. Exit code 0 when clean,
    1 when there are errors (or warnings with --strict), 2 on usage errors.

    \b
    Examples:
      lessons check
      lessons check lessons/cloud-erp-food-distributor.md --strict
      lessons check --format json | jq '.findings[].rule'
    """
    from .checks import check_knowledge_base

    report = check_knowledge_base(_kb(ctx), paths)
    if strict:
        report = report.strict()
    if fmt == "json":
        click.echo(json.dumps({"files": report.files, "errors": report.errors, "warnings": report.warnings,
                               "findings": [f.to_dict() for f in report.findings]}, indent=2, ensure_ascii=False))
    else:
        for finding in report.findings:
            click.echo(finding.format())
        verdict = "FAILED" if report.errors else "OK"
        click.echo(f"{verdict}: {report.files} lesson file(s) checked, {report.errors} error(s), {report.warnings} warning(s)",
                   err=bool(report.findings))
    ctx.exit(1 if report.errors else 0)


@main.command()
@click.option("--title", help="What the lesson is about (10-120 characters); the file name comes from it.")
@click.option("--sector", help="Sector slug from the taxonomy, e.g. retail-wholesale.")
@click.option("--size", type=click.Choice(["micro", "small", "medium"]), help="micro (<10 staff), small (<50), medium (<250).")
@click.option("--outcome", type=click.Choice(["success", "partial", "failure", "abandoned", "ongoing"]), help="How it turned out.")
@click.option("--technology", "technologies", multiple=True, help="Technology slug; repeat for several.")
@click.option("--language", default=None, help="Language of the lesson (en, es...). Default: en.")
@click.option("--summary", default="", help="One or two sentences with the key figures (can be written later).")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="Subfolder of lessons/ to write into.")
@click.option("--interactive/--no-interactive", default=None,
              help="Ask for missing values (default: only when run in a terminal).")
@click.pass_context
def new(ctx: click.Context, **options) -> None:
    """Create a new lesson from the template.

    Asks for the missing values when run in a terminal; scripts pass them all as options.
    Never overwrites an existing file.

    \b
    Examples:
      lessons new
      lessons new --title "Moving our invoices to e-invoicing" --sector retail-wholesale \\
                  --size small --outcome success --technology e-invoicing
    """
    from .authoring import create_lesson

    kb = _kb(ctx)
    interactive = options["interactive"] if options["interactive"] is not None else sys.stdin.isatty()
    answers = _ask_new(kb, options)
    if not _show_similar(kb, answers, interactive):
        click.echo("Nothing written.")
        return
    folder = options["folder"]
    if folder is not None and not folder.is_absolute():
        folder = kb.lessons_dir / folder
    path = create_lesson(kb, answers, folder=folder)
    click.echo(f"Created {kb.relpath(path)}")
    click.echo("Next: fill in the summary and each section (replace the lines in italics), then run")
    click.echo(f"  lessons check {kb.relpath(path)}")
    click.echo("and open a pull request. See docs/contributing.md.")


def _show_similar(kb, answers, interactive: bool) -> bool:
    """Show the three most similar existing lessons (when an index exists); True to go on writing the lesson."""
    from .authoring import validate_answers
    from .engine import existing_index, model_spec
    from .settings import load_settings
    from .similar import similar_to_text

    validate_answers(kb, answers)
    settings = load_settings(kb.root)
    found = existing_index(kb, model_spec(settings))
    if found is None:
        return True
    data, embedder = found
    hits = similar_to_text(data, embedder, f"{answers.title}\n{answers.summary}", answers.technologies, settings)
    if not hits:
        return True
    click.echo("Has anyone tried this already? The most similar existing lessons:", err=True)
    for hit in hits:
        click.echo(f"  {hit.score:.2f}  {hit.title} [{hit.outcome}]  {hit.path}", err=True)
    if not interactive:
        return True
    return click.confirm("Write your new lesson anyway?", default=True, err=True)


def _ask_new(kb, options: dict):
    from .authoring import NewLesson

    interactive = options["interactive"]
    if interactive is None:
        interactive = sys.stdin.isatty()
    taxonomy = kb.taxonomy
    prompts = {
        "title": ("Title (what the lesson is about)", None),
        "sector": ("Sector", click.Choice(sorted(taxonomy.sectors))),
        "size": ("Company size", click.Choice(["micro", "small", "medium"])),
        "outcome": ("Outcome", click.Choice(["success", "partial", "failure", "abandoned", "ongoing"])),
    }
    missing = []
    for key, (text, choice) in prompts.items():
        if not options[key]:
            if interactive:
                options[key] = click.prompt(text, type=choice)
            else:
                missing.append(f"--{key}")
    if not options["technologies"]:
        if interactive:
            raw = click.prompt("Technologies (slugs, comma-separated, e.g. cloud-erp, e-invoicing)")
            options["technologies"] = [t.strip() for t in raw.split(",") if t.strip()]
        else:
            missing.append("--technology")
    if missing:
        raise UsageError(f"missing {', '.join(missing)} (no terminal to ask in); see 'lessons new --help'")
    if options["language"] is None:
        options["language"] = click.prompt("Language", default="en") if interactive else "en"
    return NewLesson(title=options["title"], sector=options["sector"], size=options["size"], outcome=options["outcome"],
                     technologies=list(options["technologies"]), language=options["language"], summary=options["summary"])


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of printing.")
@click.pass_context
def schema(ctx: click.Context, output: Path | None) -> None:
    """Print the JSON Schema of the lesson front matter (sectors from the taxonomy).

    \b
    Examples:
      lessons schema
      lessons schema -o schema/lesson.schema.json
    """
    from .fsutil import write_atomic
    from .schema import json_schema

    text = json.dumps(json_schema(_kb(ctx).taxonomy), indent=2) + "\n"
    if output:
        write_atomic(output, text)
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count lessons by sector, technology, outcome, company size, country and language.

    Counts every lesson without errors (run 'lessons check' to see the others).

    \b
    Examples:
      lessons stats
      lessons stats --json
    """
    from .checks import check_knowledge_base
    from .stats import compute_stats

    report = check_knowledge_base(_kb(ctx))
    result = compute_stats(report.lessons)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{result.total} lessons")
    for facet, rows in result.counts.items():
        click.echo(f"\n{facet.replace('_', ' ').capitalize()}")
        width = max((len(value) for value, _ in rows), default=0)
        for value, count in rows:
            bar = "#" * max(1, round(30 * count / max(result.total, 1)))
            click.echo(f"  {value:<{width}}  {count:>5}  {bar}")
    skipped = report.files - len(report.lessons)
    if skipped:
        click.echo(f"\n{skipped} file(s) with errors not counted: run 'lessons check'", err=True)


# --- index and search ----------------------------------------------------------------------------------------

_model_option = click.option("--model", envvar="LESSONS_MODEL", metavar="SPEC",
                             help="Embedding model: 'bundled' (default, offline), a local folder or a model name. "
                                  "Env: LESSONS_MODEL. Default from lessons.toml.")
_refresh_option = click.option("--no-refresh", is_flag=True,
                               help="Use the index as it is, even if lessons changed since it was built.")


def _engine(ctx: click.Context, model: str | None, fast_start: bool = True):
    from .engine import model_spec, open_embedder
    from .settings import load_settings
    from .terminal import log

    kb = _kb(ctx)
    settings = load_settings(kb.root)
    spec = model_spec(settings, model)
    embedder, identity = open_embedder(kb, spec, log, fast_start=fast_start)
    return kb, settings, embedder, identity


def _ready(kb, embedder, identity, refresh: bool):
    from .engine import ready_index
    from .terminal import log, progress_bar

    with progress_bar("Embedding passages") as progress:
        return ready_index(kb, embedder, identity, refresh=refresh, log=log, progress=progress)


@main.command()
@click.option("--rebuild", is_flag=True, help="Embed every lesson again instead of only new or changed ones.")
@_model_option
@click.option("--wait", type=click.FloatRange(0), default=10.0, show_default=True,
              help="Seconds to wait for another process that is writing the index.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report.")
@click.pass_context
def index(ctx: click.Context, rebuild: bool, model: str | None, wait: float, as_json: bool) -> None:
    """Build or update the search index in .lessons/ (only new or changed lessons are embedded).

    Lessons with errors are left out (run 'lessons check' to see why). The new index is written
    beside the old one and swapped in at the end, so an interrupted run leaves the old one usable.

    \b
    Examples:
      lessons index
      lessons index --rebuild
      lessons index --model ./models/my-sentence-model
    """
    from .indexing import refresh
    from .terminal import log, progress_bar

    kb, _settings, embedder, identity = _engine(ctx, model, fast_start=False)
    with progress_bar("Embedding passages") as progress:
        report = refresh(kb, embedder, identity, rebuild=rebuild, progress=progress, log=log, wait=wait)
    if as_json:
        click.echo(json.dumps({"lessons": report.lessons, "passages": report.passages, "embedded": report.embedded,
                               "reused": report.reused, "added": report.added, "changed": report.changed,
                               "removed": report.removed, "up_to_date": report.up_to_date,
                               "left_out": [f.to_dict() for f in report.left_out], "seconds": round(report.seconds, 3)}, indent=2))
        return
    if report.up_to_date:
        click.echo(f"Index is up to date: {report.lessons} lessons, {report.passages} passages.")
    else:
        click.echo(f"Indexed {report.lessons} lessons ({report.passages} passages): {len(report.added)} added, "
                   f"{len(report.changed)} changed, {len(report.removed)} removed; {report.embedded} passages embedded "
                   f"in {report.seconds:.1f} s.")
    if report.left_out:
        files = sorted({f.path for f in report.left_out})
        click.echo(f"{len(files)} file(s) left out because of errors:", err=True)
        for finding in report.left_out:
            click.echo(f"  {finding.format()}", err=True)


def _filters(sector, technology, outcome, size, country, language, since):
    from .search import Filters

    return Filters(tuple(sector), tuple(technology), tuple(outcome), tuple(size), tuple(country), tuple(language),
                   since.date() if since else None)


@main.command()
@click.argument("query", required=False)
@click.option("-k", "--top", type=click.IntRange(1, 1000), default=5, show_default=True, help="How many lessons to show.")
@click.option("--sector", multiple=True, help="Only this sector (repeatable: any of them).")
@click.option("--technology", multiple=True, help="Only lessons with this technology (repeatable: any of them).")
@click.option("--outcome", multiple=True, help="Only this outcome: success, partial, failure, abandoned, ongoing.")
@click.option("--size", multiple=True, help="Only this company size: micro, small, medium.")
@click.option("--country", multiple=True, help="Only this country (ISO code, e.g. ES).")
@click.option("--language", multiple=True, help="Only lessons in this language (e.g. es).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only lessons written on or after this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON (schema in docs/how-search-works.md).")
@click.option("--batch", type=click.File("r", encoding="utf-8"),
              help='Read JSON lines {"id": ..., "text": ...} and write one JSON line of hits per query ("-" for stdin).')
@_refresh_option
@_model_option
@click.pass_context
def search(ctx: click.Context, query: str | None, top: int, sector, technology, outcome, size, country, language, since,
           as_json: bool, batch, no_refresh: bool, model: str | None) -> None:
    """Has anyone tried this? Find the lessons closest to QUERY, by meaning and by keywords.

    One result per lesson, with the passage that matched best. Filters apply before the top-k cut.
    The index is built or updated first if lessons changed (unless --no-refresh).

    \b
    Examples:
      lessons search "moving invoices to e-invoicing"
      lessons search "ransomware backups" --outcome failure --outcome partial -k 10
      lessons search "facturación electrónica" --language es --json
      lessons search --batch queries.jsonl > hits.jsonl
    """
    from .search import Filters, validate_filters
    from .search import search as run_search
    from .terminal import format_hits

    queries = _read_batch(batch) if batch else None
    if queries is None and not (query or "").strip():
        raise UsageError("the query is empty: say what you are looking for, e.g. lessons search \"cloud ERP migration\"")
    filters = _filters(sector, technology, outcome, size, country, language, since)
    kb, settings, embedder, identity = _engine(ctx, model)
    data = _ready(kb, embedder, identity, refresh=not no_refresh)
    if filters != Filters():
        validate_filters(filters, kb.taxonomy, data)
    if queries is not None:
        results = run_search(data, embedder, [text for _, text in queries], filters, top, settings.dense_weight)
        for (qid, _), hits in zip(queries, results):
            click.echo(json.dumps({"query_id": qid, "hits": [{"id": h.id, "score": h.score} for h in hits]}, ensure_ascii=False))
        return
    [hits] = run_search(data, embedder, [query.strip()], filters, top, settings.dense_weight)
    if as_json:
        click.echo(json.dumps({"query": query, "results": [h.to_dict() for h in hits]}, indent=2, ensure_ascii=False))
    elif hits:
        click.echo(format_hits(hits))
    else:
        click.echo("No lesson matches these filters.", err=True)


def _read_batch(handle) -> list[tuple[str, str]]:
    queries = []
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            qid, text = item["id"], item["text"]
        except (ValueError, KeyError, TypeError):
            raise UsageError(f"{handle.name}:{number}: expected a JSON object with 'id' and 'text'") from None
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f"{handle.name}:{number}: the query text is empty")
        queries.append((str(qid), text))
    if not queries:
        raise UsageError(f"{handle.name}: no queries found")
    return queries


@main.command()
@click.argument("lesson")
@click.option("-k", "--top", type=click.IntRange(1, 100), default=5, show_default=True, help="At most this many lessons.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_refresh_option
@_model_option
@click.pass_context
def similar(ctx: click.Context, lesson: str, top: int, as_json: bool, no_refresh: bool, model: str | None) -> None:
    """Lessons that tell about the same thing as LESSON (an id, or the path of a file, even a draft).

    Two tiers: "likely duplicate" (the same story told again) and "related" (the same problem, other
    companies). Thresholds are in lessons.toml [search]; docs/how-search-works.md explains how they were chosen.

    \b
    Examples:
      lessons similar cloud-erp-food-distributor
      lessons similar drafts/my-new-lesson.md --json
    """
    from .similar import find_similar
    from .terminal import format_similar

    kb, settings, embedder, identity = _engine(ctx, model)
    data = _ready(kb, embedder, identity, refresh=not no_refresh)
    target, hits = find_similar(kb, data, embedder, lesson, settings, top)
    if as_json:
        click.echo(json.dumps({"lesson": target, "similar": [h.to_dict() for h in hits]}, indent=2, ensure_ascii=False))
    elif hits:
        click.echo(format_similar(hits))
    else:
        click.echo(f"No lesson is close to {target} (related threshold {settings.related_threshold}).")


@main.command(name="eval")
@click.option("--queries", "queries_file", type=click.File("r", encoding="utf-8"), required=True,
              help='JSON lines {"id": ..., "text": ...}.')
@click.option("--qrels", "qrels_file", type=click.File("r", encoding="utf-8"), required=True,
              help="Tab-separated: query id, lesson id, grade (0 = not relevant).")
@click.option("--dense-weight", type=click.FloatRange(0, 1), help="Override the fusion weight from lessons.toml.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_refresh_option
@_model_option
@click.pass_context
def eval_command(ctx: click.Context, queries_file, qrels_file, dense_weight: float | None, as_json: bool,
                 no_refresh: bool, model: str | None) -> None:
    """Measure search quality: nDCG@10, Recall@5, Recall@10 and MRR@10 on your own queries.

    \b
    Examples:
      lessons eval --queries queries.jsonl --qrels qrels.tsv
      lessons eval --queries queries.jsonl --qrels qrels.tsv --dense-weight 1.0 --json
    """
    from .search import evaluate
    from .search import search as run_search

    queries = _read_batch(queries_file)
    qrels = _read_qrels(qrels_file)
    kb, settings, embedder, identity = _engine(ctx, model)
    data = _ready(kb, embedder, identity, refresh=not no_refresh)
    weight = settings.dense_weight if dense_weight is None else dense_weight
    results = run_search(data, embedder, [text for _, text in queries], top_k=10, dense_weight=weight)
    rankings = {qid: [h.id for h in hits] for (qid, _), hits in zip(queries, results)}
    result = evaluate(rankings, qrels)
    if as_json:
        click.echo(json.dumps(result.to_dict() | {"dense_weight": weight}, indent=2))
    else:
        click.echo(f"{result.queries} queries (dense weight {weight}): nDCG@10 {result.ndcg_at_10:.4f}  "
                   f"Recall@5 {result.recall_at_5:.4f}  Recall@10 {result.recall_at_10:.4f}  MRR@10 {result.mrr_at_10:.4f}")


def _read_qrels(handle) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(handle, 1):
        parts = line.rstrip("\n").split("\t")
        if not line.strip():
            continue
        try:
            qid, doc, grade = parts[0], parts[1], int(float(parts[2]))
        except (IndexError, ValueError):
            if number == 1:
                continue  # a header line
            raise UsageError(f"{handle.name}:{number}: expected 'query id<TAB>lesson id<TAB>grade'") from None
        qrels.setdefault(qid, {})[doc] = grade
    return qrels


# --- website ---------------------------------------------------------------------------------------------------


@main.command()
@click.option("--engine", type=click.Choice(["mkdocs", "zensical"]), default="mkdocs", show_default=True,
              help="The engine that builds the generated pages (both read mkdocs.yml).")
@click.option("--strict", is_flag=True, help="Fail on any warning, including lessons left out because of errors.")
@click.option("--no-build", is_flag=True, help="Only generate the pages into docs/generated/.")
@_model_option
@click.pass_context
def site(ctx: click.Context, engine: str, strict: bool, no_build: bool, model: str | None) -> None:
    """Build the website: every lesson page, browse pages, statistics, feed, related lessons.

    Generates the pages into docs/generated/ (the index is built or refreshed for related
    lessons), then builds the site into site/. Lessons with errors are left out and listed.

    \b
    Examples:
      lessons site
      lessons site --strict
      lessons site --engine zensical
    """
    import time

    from .engine import model_spec, open_embedder, ready_index
    from .settings import load_settings
    from .site import build, prepare
    from .terminal import log, progress_bar

    started = time.perf_counter()
    kb = _kb(ctx)
    settings = load_settings(kb.root)

    def index_loader():
        embedder, identity = open_embedder(kb, model_spec(settings, model), log)
        with progress_bar("Embedding passages") as progress:
            return ready_index(kb, embedder, identity, log=log, progress=progress)

    report = prepare(kb, settings, index_loader=index_loader, log=log)
    for finding in report.left_out:
        click.echo(f"{finding.format()} (left out of the site)", err=True)
    if report.left_out and strict:
        raise click.ClickException(f"{len({f.path for f in report.left_out})} lesson file(s) have errors (--strict)")
    if no_build:
        return
    out = build(kb, engine, strict=strict, log=log)
    elapsed = time.perf_counter() - started
    click.echo(f"Built the site for {report.lessons} lessons with {engine} into {kb.relpath(out)} in {elapsed:.1f} s.")
    click.echo(f"To look at it: python -m http.server --directory {kb.relpath(out)} 8000, then open http://localhost:8000/"
               + (" (or run: mkdocs serve)" if engine == "mkdocs" else ""))


# --- contributions ---------------------------------------------------------------------------------------------


@main.command()
@click.option("--base", required=True, envvar="LESSONS_REVIEW_BASE", help="Git commit, branch or tag to compare with (the PR's base).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the review to this file too.")
@_model_option
@click.pass_context
def review(ctx: click.Context, base: str, fmt: str, output: Path | None, model: str | None) -> None:
    """Review the lessons a change adds, modifies, renames or deletes against BASE.

    For each changed lesson: its 'lessons check' findings, and the existing lessons that already
    tell the same story (likely duplicates and related ones). Markdown for a pull-request
    comment, or JSON. Exit code 1 only if a changed lesson has errors.

    \b
    Examples:
      lessons review --base origin/main
      lessons review --base main --format json
    """
    from .fsutil import write_atomic
    from .review import review as run_review
    from .review import to_markdown
    from .similar import find_similar

    kb, settings, embedder, identity = _engine(ctx, model)
    state: dict = {}

    def finder(path: Path, exclude: set[str]):
        if "data" not in state:
            state["data"] = _ready(kb, embedder, identity, refresh=True)
        return find_similar(kb, state["data"], embedder, str(path), settings, 5, exclude=exclude)[1]

    result = run_review(kb, base, settings, similar_finder=finder)
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if fmt == "json" else to_markdown(result, settings.site_url)
    if output:
        write_atomic(output, text + "\n")
    click.echo(text)
    ctx.exit(1 if result.errors else 0)


@main.command(name="from-issue")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="Where to write the lesson (default: lessons/).")
@click.option("--json", "as_json", is_flag=True, help="Print the path and findings as JSON (for the issue workflow).")
@click.pass_context
def from_issue(ctx: click.Context, source, folder: Path | None, as_json: bool) -> None:
    """Turn the body of a filled-in 'Share a lesson' issue into a lesson file (SOURCE: a file, or - for stdin).

    The file name comes from the title; the contributor stays anonymous unless they ticked the box
    to be named. The new file is checked like any lesson; exit code 1 if it has errors.

    \b
    Examples:
      lessons from-issue issue-body.md
      gh issue view 42 --json body -q .body | lessons from-issue -
    """
    from .checks import check_knowledge_base
    from .fsutil import create_exclusive
    from .issueform import lesson_from_issue

    kb = _kb(ctx)
    made = lesson_from_issue(source.read(), kb.taxonomy)
    target = (folder if folder is not None else kb.lessons_dir) / made.filename
    if target.exists() or any(p.stem == target.stem for p in kb.lesson_files()):
        raise UsageError(f"a lesson named {target.stem} already exists: change the issue's title")
    try:
        create_exclusive(target, made.text)
    except FileExistsError:
        raise UsageError(f"{kb.relpath(target)} already exists") from None
    report = check_knowledge_base(kb, [target])
    if as_json:
        click.echo(json.dumps({"path": kb.relpath(target), "id": target.stem, "notes": made.notes,
                               "findings": [f.to_dict() for f in report.findings]}, indent=2, ensure_ascii=False))
    else:
        click.echo(f"Created {kb.relpath(target)}")
        for note in made.notes:
            click.echo(f"note: {note}", err=True)
        for finding in report.findings:
            click.echo(finding.format())
    ctx.exit(1 if report.errors else 0)


@main.command(name="issue-form")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here instead of printing.")
@click.pass_context
def issue_form(ctx: click.Context, output: Path | None) -> None:
    """Print the GitHub issue form for sharing a lesson, with choices from the taxonomy.

    \b
    Examples:
      lessons issue-form -o .github/ISSUE_TEMPLATE/lesson.yml
    """
    from .fsutil import write_atomic
    from .issueform import render_issue_form

    text = render_issue_form(_kb(ctx).taxonomy)
    if output:
        write_atomic(output, text)
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
