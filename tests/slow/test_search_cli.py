"""`lessons index`, `search`, `similar` and `eval` end to end: real model, real FAISS index, real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import main
from indexer.search import integrity
from tests.helpers import REPO, topic_lesson

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def starter(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the starter knowledge base, indexed once for the module."""
    root = tmp_path_factory.mktemp("starter")
    shutil.copytree(REPO / "lessons", root / "lessons")
    result = CliRunner().invoke(main, ["--root", str(root), "index"], env={"LESSONS_CACHE_DIR": str(model_cache)})
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def run(starter: Path, model_cache: Path):
    def invoke(*args: str, root: Path | None = None, input: str | None = None):
        return CliRunner().invoke(main, ["--root", str(root or starter), *args], input=input, env={"LESSONS_CACHE_DIR": str(model_cache)})

    return invoke


def test_index_reports_and_is_then_up_to_date(run) -> None:
    result = run("index")
    assert result.exit_code == 0 and "Index is up to date: 45 lessons" in result.output
    data = json.loads(run("index", "--json").output)
    assert data["up_to_date"] and data["lessons"] == 45 and data["embedded"] == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("has anyone moved invoices to e-invoicing for a government mandate?", "einvoicing"),
        ("our backups were encrypted by ransomware", "ransomware"),
        ("drivers ignored the route optimisation software", "route-planning"),
        ("guests complain the hotel wifi is slow", "wifi-upgrade-family-hotel"),
    ],
)
def test_search_finds_the_lesson_about_it(run, query: str, expected: str) -> None:
    result = run("search", query, "--json")
    assert result.exit_code == 0, result.output
    top = json.loads(result.output)["results"]
    assert expected in top[0]["id"]
    assert {"id", "title", "path", "score", "outcome", "sector", "snippet", "section", "metadata"} <= set(top[0])


def test_human_output_lists_rank_title_outcome_path_and_snippet(run) -> None:
    result = run("search", "cloud ERP migration went wrong", "-k", "3")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("1. ") and "[failure]" in lines[0]
    assert "| score " in lines[1] and "lessons/cloud-erp-furniture-maker-failure.md" in lines[1]
    assert sum(line[:3] in ("1. ", "2. ", "3. ") for line in lines) == 3


def test_filters_and_spanish(run) -> None:
    result = json.loads(run("search", "facturación electrónica", "--language", "es", "--json").output)["results"]
    assert result[0]["id"] == "facturacion-electronica-taller-mecanico"
    assert all(hit["language"] == "es" for hit in result)
    failures = json.loads(run("search", "software", "--outcome", "failure", "-k", "50", "--json").output)["results"]
    assert failures and all(h["outcome"] == "failure" for h in failures)
    assert len(failures) == sum(1 for p in (REPO / "lessons").glob("*.md") if "outcome: failure" in p.read_text())


def test_batch_mode_writes_one_line_per_query(run, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "text": "ransomware"}\n\n{"id": 7, "text": "chatbot answered wrong tariffs"}\n')
    result = run("search", "--batch", str(queries), "-k", "3")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["query_id"] for line in lines] == ["a", "7"]
    assert len(lines[1]["hits"]) == 3 and lines[1]["hits"][0]["id"] == "chatbot-energy-cooperative-failure"
    assert set(lines[0]["hits"][0]) == {"id", "score"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "   "], "the query is empty"),
        (["search", "erp", "--outcome", "sucess"], "unknown outcome 'sucess'; did you mean 'success'?"),
        (["search", "erp", "--outcome", "nonsense"], "unknown outcome 'nonsense'; valid values: abandoned, failure"),
        (["search", "erp", "--sector", "bakeries"], "valid values: administrative-support"),
        (["search", "erp", "--technology", "quantum"], "unknown technology 'quantum'"),
        (["search", "erp", "--since", "yesterday"], "'yesterday' is not a year, a month or a date: write 2025, 2025-03 or 2025-03-14"),
    ],
)
def test_user_mistakes_exit_2(run, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_empty_knowledge_base_answers_nothing_but_similar_exits_2(run, kb: Path) -> None:
    # a new knowledge base (`lessons init --no-samples`) has nothing to find yet: an answer, not an error
    result = run("search", "anything", root=kb)
    assert result.exit_code == 0 and "no lessons yet" in result.output, result.output
    result = run("similar", "anything", root=kb)
    assert result.exit_code == 2 and "no valid lessons" in result.output, result.output


def test_search_refreshes_a_stale_index_first(run, starter: Path, tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(starter, root)
    (root / "lessons" / "new-topic-one.md").write_text(topic_lesson("beekeeping hive monitoring"))
    stale = run("search", "beekeeping hive", "--no-refresh", "--json", root=root)
    assert "new-topic-one" not in stale.output
    fresh = run("search", "beekeeping hive", "--json", root=root)
    assert "Lessons changed since the index was built: updating it first." in fresh.stderr
    assert json.loads(fresh.stdout)["results"][0]["id"] == "new-topic-one"


def test_missing_index_is_built_by_search(run, tmp_path: Path) -> None:
    root = tmp_path / "kb"
    (root / "lessons").mkdir(parents=True)
    shutil.copy(REPO / "lessons" / "taxonomy.yml", root / "lessons")
    (root / "lessons" / "only-one.md").write_text(topic_lesson("greenhouse irrigation"))
    result = run("search", "irrigation", root=root)
    assert result.exit_code == 0 and "No index yet: building it now" in result.stderr


def test_foreign_index_is_a_clear_error(run, starter: Path, tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(starter, root)
    current = (root / ".lessons" / "index" / "CURRENT").read_text().strip()
    manifest = root / ".lessons" / "index" / current / "manifest.json"
    data = json.loads(manifest.read_text())
    data["model"]["sha256"] = "f" * 64
    # written as another model's index would be, with its own checksum (an edited one is damage, not foreign)
    data["self_sha256"] = integrity.manifest_digest(data)
    manifest.write_text(json.dumps(data))
    result = run("search", "erp", root=root)
    assert result.exit_code == 1
    assert "lessons index --rebuild" in result.output and "Traceback" not in result.output


def test_similar_finds_each_same_language_pair(run, starter: Path) -> None:
    """The thresholds are calibrated on the starter corpus: each pair of lessons about one problem finds the other."""
    pairs = []
    for path in (starter / "lessons").glob("*.md"):
        text = path.read_text()
        for other in (starter / "lessons").glob("*.md"):
            if f"related: [{other.stem}" in text or f", {other.stem}" in text.split("related:")[-1].split("\n")[0]:
                if ("language: es" in text) == ("language: es" in other.read_text()):
                    pairs.append((path.stem, other.stem))
    assert len(pairs) >= 6
    for lesson, other in pairs:
        result = json.loads(run("similar", lesson, "--json").output)
        found = {h["id"]: h["tier"] for h in result["similar"]}
        assert found.get(other) == "related", (lesson, other, result["similar"][:3])


def test_similar_flags_a_resubmitted_draft_as_likely_duplicate(run, starter: Path, tmp_path: Path) -> None:
    original = (starter / "lessons" / "mfa-rollout-dental-clinic.md").read_text()
    lines = original.splitlines()
    draft = tmp_path / "mfa-at-our-clinic.md"  # the same story, lightly edited, under a new name
    draft.write_text("\n".join(line.replace("clinic", "practice") for line in lines[:-4]) + "\n")
    result = json.loads(run("similar", str(draft), "--json").output)
    assert result["similar"][0]["id"] == "mfa-rollout-dental-clinic"
    assert result["similar"][0]["tier"] == "likely duplicate"
    assert all(h["tier"] == "related" for h in result["similar"][1:])


def test_similar_draft_does_not_find_itself_and_unrelated_has_no_duplicate(run, starter: Path, tmp_path: Path) -> None:
    copy = tmp_path / "crm-engineering-consultancy-abandoned.md"
    shutil.copy(starter / "lessons" / "crm-engineering-consultancy-abandoned.md", copy)
    result = json.loads(run("similar", str(copy), "--json").output)
    assert "crm-engineering-consultancy-abandoned" not in {h["id"] for h in result["similar"]}
    unrelated = tmp_path / "beekeeping-one.md"
    unrelated.write_text(topic_lesson("beekeeping hive monitoring", technologies="[iot-sensors]"))
    hits = json.loads(run("similar", str(unrelated), "--json").output)["similar"]
    assert all(h["tier"] != "likely duplicate" for h in hits)


def test_similar_unknown_id_exits_2(run) -> None:
    result = run("similar", "no-such-lesson")
    assert result.exit_code == 2 and "no indexed lesson with id 'no-such-lesson'" in result.output


def test_eval_reports_the_four_metrics(run, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "q1", "text": "ransomware hit our backups"}\n{"id": "q2", "text": "telephone system replaced with VoIP"}\n')
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text(
        "query-id\tcorpus-id\tscore\nq1\transomware-recovery-accounting-firm\t1\nq1\transomware-attack-logistics-company\t1\n"
        "q2\tvoip-phone-system-plumbing-company\t2\n"
    )
    result = run("eval", "--queries", str(queries), "--qrels", str(qrels), "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["queries"] == 2 and metrics["recall_at_10"] == 1.0 and metrics["ndcg_at_10"] > 0.8
    assert set(metrics) == {"queries", "ndcg_at_10", "recall_at_5", "recall_at_10", "mrr_at_10", "dense_weight"}


def test_real_process_exits_cleanly_when_the_model_is_not_needed(starter: Path, model_cache: Path) -> None:
    import os
    import subprocess
    import sys

    env = dict(os.environ, LESSONS_CACHE_DIR=str(model_cache))
    proc = subprocess.run(
        [sys.executable, "-m", "indexer", "--root", str(starter), "similar", "crm-engineering-consultancy-abandoned"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert proc.returncode == 0 and "terminate" not in proc.stderr, proc.stderr


def test_new_shows_similar_lessons_and_asks_before_writing(run, starter: Path) -> None:
    args = [
        "new",
        "--interactive",
        "--title",
        "Moving our orders to a cloud ERP in a furniture factory",
        "--sector",
        "manufacturing",
        "--size",
        "medium",
        "--outcome",
        "failure",
        "--technology",
        "cloud-erp",
        "--language",
        "en",
        "--summary",
        "We moved from our old ERP to a cloud ERP and had to roll back.",
    ]
    declined = run(*args, input="n\n")
    assert declined.exit_code == 0 and "Nothing written." in declined.output
    assert "lessons/cloud-erp-furniture-maker-failure.md" in declined.stderr.splitlines()[1]
    target = starter / "lessons" / "moving-our-orders-to-a-cloud-erp-in-a-furniture-factory.md"
    assert not target.exists()
    accepted = run(*args, input="y\n")
    assert accepted.exit_code == 0 and target.exists()
    target.unlink()
