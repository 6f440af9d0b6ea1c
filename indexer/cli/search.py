"""`lessons index`, `search`, `similar` and `eval`: the questions answered from the search index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from ..core.vocabulary import OUTCOMES, SIZES
from ..errors import UsageError
from .options import json_option, knowledge_base, model_options, open_search, refresh_option, settings_of

if TYPE_CHECKING:
    from ..core.taxonomy import Taxonomy
    from ..search.rank import Filters


@click.command()
@click.option("--rebuild", is_flag=True, help="Embed every lesson again instead of only new or changed ones.")
@model_options
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=10.0,
    show_default=True,
    help="Seconds to wait for another process that is writing the index.",
)
@json_option("Print a JSON report.")
@click.pass_context
def index(ctx: click.Context, rebuild: bool, model: str | None, cache_dir: Path | None, wait: float, as_json: bool) -> None:
    """Build or update the search index in .lessons/ (only new or changed lessons are embedded).

    Lessons with errors are left out (run 'lessons check' to see why). The new index is written
    beside the old one and swapped in at the end, so an interrupted run leaves the old one usable.
    Every index file is checked against its checksum; damage is repaired (and reported) without
    --rebuild, embedding again only the passages whose vectors were damaged.

    \b
    Examples:
      lessons index
      lessons index --rebuild
      lessons index --model ./models/my-sentence-model
    """
    kb = knowledge_base(ctx)
    report = open_search(kb, settings_of(kb), model, cache_dir, fast_start=False).update(rebuild=rebuild, wait=wait)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    for repair in report.repaired:
        click.echo(f"Repaired the index: {repair}.", err=True)
    if report.up_to_date:
        click.echo(f"Index is up to date: {report.lessons} lessons, {report.passages} passages.")
    else:
        click.echo(
            f"Indexed {report.lessons} lessons ({report.passages} passages): {len(report.added)} added, "
            f"{len(report.changed)} changed, {len(report.removed)} removed; {report.embedded} passages embedded "
            f"in {report.seconds:.1f} s."
        )
    if report.left_out:
        from .terminal import echo

        files = sorted({f.path for f in report.left_out})
        click.echo(f"{len(files)} file(s) left out because of errors:", err=True)
        for finding in report.left_out:
            echo(f"  {finding.format()}", err=True)


@click.command()
@click.argument("query", required=False)
@click.option("-k", "--top", type=click.IntRange(1, 1000), default=5, show_default=True, help="How many lessons to show.")
@click.option("--sector", multiple=True, help="Only this sector (repeatable: any of them).")
@click.option("--technology", multiple=True, help="Only lessons with this technology (repeatable: any of them).")
@click.option("--outcome", multiple=True, help=f"Only this outcome: {', '.join(OUTCOMES)}.")
@click.option("--size", multiple=True, help=f"Only this company size: {', '.join(SIZES)}.")
@click.option("--country", multiple=True, help="Only this country (ISO code, e.g. ES; a name is suggested as its code).")
@click.option("--language", multiple=True, help="Only lessons in this language (e.g. es).")
@click.option("--since", metavar="DATE", help="Only lessons written on or after this year, month or day (2025, 2025-03, 2025-03-14).")
@json_option("Print results as JSON (schema in docs/how-search-works.md).")
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    help='Read JSON lines {"id": ..., "text": ...} and write one JSON line of hits per query ("-" for stdin).',
)
@refresh_option
@model_options
@click.pass_context
def search(
    ctx: click.Context,
    query: str | None,
    top: int,
    sector: tuple[str, ...],
    technology: tuple[str, ...],
    outcome: tuple[str, ...],
    size: tuple[str, ...],
    country: tuple[str, ...],
    language: tuple[str, ...],
    since: str | None,
    as_json: bool,
    batch: IO[str] | None,
    no_refresh: bool,
    model: str | None,
    cache_dir: Path | None,
) -> None:
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
    from ..search.evaluate import read_queries
    from .terminal import echo_json, format_answer

    queries = read_queries(batch, batch.name) if batch else None
    if queries is None and not (query or "").strip():
        raise UsageError('the query is empty: say what you are looking for, e.g. lessons search "cloud ERP migration"')
    kb = knowledge_base(ctx)
    options = (sector, technology, outcome, size, country, language)
    # the taxonomy only checks filter values: a search without filters does not parse it (a cold search's time)
    filters = _filters(kb.taxonomy, *options, since=since) if any(options) or since else None
    session = open_search(kb, settings_of(kb), model, cache_dir, refresh=not no_refresh)
    if queries is not None:
        results = session.search([text for _, text in queries], filters, top)
        for (qid, _), hits in zip(queries, results):
            echo_json({"query_id": qid, "hits": [{"id": h.id, "score": h.score} for h in hits]}, indent=None)
        return
    [found] = session.answer([(query or "").strip()], filters, top)
    if as_json:
        echo_json(
            {
                "query": query,
                "nothing_close": found.nothing_close,
                "index_updating": session.updating,
                "results": [h.to_dict() for h in found.hits],
            }
        )
    elif found.hits:
        click.echo(format_answer(found))  # escaped piece by piece, keeping its own styling
    else:
        click.echo("No lesson matches these filters.", err=True)


def _filters(taxonomy: Taxonomy, *options: tuple[str, ...], since: str | None) -> Filters:
    """The filter options checked against the vocabulary: an unknown value is refused with what it probably means."""
    from ..core.choices import parse_since, resolve
    from ..search.rank import Filters

    sector, technology, outcome, size, country, language = options

    def each(kind: str, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(resolve(kind, value, taxonomy) for value in values)

    return Filters(
        sectors=each("sector", sector),
        technologies=each("technology", technology),
        outcomes=each("outcome", outcome),
        sizes=each("size", size),
        countries=each("country", country),
        languages=language,
        since=parse_since(since) if since else None,
    )


@click.command()
@click.argument("lesson")
@click.option("-k", "--top", type=click.IntRange(1, 100), default=5, show_default=True, help="At most this many lessons.")
@json_option("Print JSON.")
@refresh_option
@model_options
@click.pass_context
def similar(ctx: click.Context, lesson: str, top: int, as_json: bool, no_refresh: bool, model: str | None, cache_dir: Path | None) -> None:
    """Lessons that tell about the same thing as LESSON (an id, or the path of a file, even a draft).

    Two tiers: "likely duplicate" (the same story told again) and "related" (the same problem, other
    companies). Thresholds are in lessons.toml [search]; docs/how-search-works.md explains how they were chosen.

    \b
    Examples:
      lessons similar cloud-erp-food-distributor
      lessons similar drafts/my-new-lesson.md --json
    """
    from .terminal import echo, echo_json, format_similar

    kb = knowledge_base(ctx)
    settings = settings_of(kb)
    target, hits = open_search(kb, settings, model, cache_dir, refresh=not no_refresh).similar(lesson, top)
    if as_json:
        echo_json({"lesson": target, "similar": [h.to_dict() for h in hits]})
    elif hits:
        click.echo(format_similar(hits))  # escaped piece by piece, keeping its own styling
    else:
        echo(f"No lesson is close to {target} (related threshold {settings.related_threshold}).")


@click.command(name="eval")
@click.option(
    "--queries", "queries_file", type=click.File("r", encoding="utf-8"), required=True, help='JSON lines {"id": ..., "text": ...}.'
)
@click.option(
    "--qrels",
    "qrels_file",
    type=click.File("r", encoding="utf-8"),
    required=True,
    help="Tab-separated: query id, lesson id, grade (0 = not relevant).",
)
@click.option("--dense-weight", type=click.FloatRange(0, 1), help="Override the fusion weight from lessons.toml.")
@json_option("Print JSON.")
@refresh_option
@model_options
@click.pass_context
def eval_command(
    ctx: click.Context,
    queries_file: IO[str],
    qrels_file: IO[str],
    dense_weight: float | None,
    as_json: bool,
    no_refresh: bool,
    model: str | None,
    cache_dir: Path | None,
) -> None:
    """Measure search quality: nDCG@10, Recall@5, Recall@10 and MRR@10 on your own queries.

    \b
    Examples:
      lessons eval --queries queries.jsonl --qrels qrels.tsv
      lessons eval --queries queries.jsonl --qrels qrels.tsv --dense-weight 1.0 --json
    """
    from ..search.evaluate import evaluate, read_qrels, read_queries

    queries = read_queries(queries_file, queries_file.name)
    qrels = read_qrels(qrels_file, qrels_file.name)
    kb = knowledge_base(ctx)
    settings = settings_of(kb)
    weight = settings.dense_weight if dense_weight is None else dense_weight
    results = open_search(kb, settings, model, cache_dir, refresh=not no_refresh).search(
        [text for _, text in queries], top_k=10, dense_weight=weight
    )
    rankings = {qid: [h.id for h in hits] for (qid, _), hits in zip(queries, results)}
    result = evaluate(rankings, qrels)
    if as_json:
        click.echo(json.dumps(result.to_dict() | {"dense_weight": weight}, indent=2))
    else:
        click.echo(
            f"{result.queries} queries (dense weight {weight}): nDCG@10 {result.ndcg_at_10:.4f}  "
            f"Recall@5 {result.recall_at_5:.4f}  Recall@10 {result.recall_at_10:.4f}  MRR@10 {result.mrr_at_10:.4f}"
        )


COMMANDS = (index, search, similar, eval_command)
