"""`lessons index`, `search`, `similar` and `eval`: thin commands over the index and search modules."""

from __future__ import annotations

import json

import click

from .cli import _kb, main
from .errors import UsageError

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


