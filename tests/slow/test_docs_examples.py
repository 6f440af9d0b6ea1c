"""Every `lessons` command the documentation shows, run exactly as written, the way a user types it.

What counts as an example (collected by tests/docs_examples.py):

- README.md and docs/*.md (not docs/generated/): in ```bash, ```sh, ```shell and ```console blocks, every line whose
  first word is `lessons` (a leading `$ ` and a trailing `# comment` are stripped); in ```text blocks, only lines that
  start with `$ lessons`, and the lines after one, up to the next `$ ` line, are its shown output. The README's table
  of commands (lines without `$`) is not run; tests/quick/test_docs.py checks it lists exactly the commands.
- every command's --help (and `lessons --help`): each line of its "Examples:" section whose first word is `lessons`,
  with its continuation lines (ending in a backslash); text after a `#` is a comment, as in a shell.
- .pre-commit-hooks.yaml: each hook's `entry` with a lesson file name appended, as pre-commit runs it.

What exit code an example must end with: 0, unless the example says otherwise, in one of two ways:

- under a `$ lessons ...` line, shown output with a line that starts with `FAILED` means exit code 1
  (the README's `$ lessons check`, which shows a broken lesson);
- in a shell block, a trailing comment `# exits N` states the code, e.g. `lessons check --strict  # exits 1`.

How an example runs: `bash -o pipefail -c EXAMPLE` (the text as written, so quotes, pipes and redirections work, and
a pipe fails when any of its commands fails), with standard input closed, in its own copy of a knowledge base:
this repository's lessons, docs/ (without the generated pages), mkdocs.yml, lessons.toml, schema/ and the issue
form, as a git repository on branch `main` with an `origin` remote. PATH starts with this virtualenv's bin/ and
LESSONS_CACHE_DIR points at the ONNX export of the bundled model made once per test session (test setup, so the
model is not exported again for every example). The search index is built once in a template that every example
copies. `lessons new` without --title asks questions: it runs in a pseudo-terminal and the test answers them.

The files examples name exist with realistic content: queries.jsonl and qrels.tsv (and my-queries.jsonl and
my-qrels.tsv) with queries whose relevant lessons exist, a filled-in issue form in issue-body.md and a draft in
drafts/my-new-lesson.md. A lesson file that an example names, in its command or in its shown output, is added for
that example only (lessons/your-lesson.md, and lessons/crm-pilot.md with the mistakes the README's `lessons check`
output shows); so is ./models/my-sentence-model, a copy of the bundled sentence-transformers model. `lessons review`
examples run on a branch `my-lesson` that adds lessons/your-lesson.md, as a pull request would.

Each test then checks that the command did what it says, where that is cheap: the files it writes, JSON that parses,
the titles of the lessons the documentation shows, the site's pages.
"""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.contrib.issue_form import QUESTIONS
from indexer.core.settings import DEFAULT_DENSE_WEIGHT
from tests.docs_examples import Example, all_examples
from tests.helpers import GIT_USER, REPO, copy_site_kb, front_matter, git, lesson_text

pytestmark = pytest.mark.slow

EXAMPLES = all_examples(main)
STARTER = sorted(p.stem for p in (REPO / "lessons").glob("*.md"))
BIN = Path(sys.executable).parent  # this virtualenv's bin/, where `lessons` is installed

QUERIES = [
    {"id": "q1", "text": "has anyone moved their invoices to e-invoicing for a government mandate?"},
    {"id": "q2", "text": "our backups were encrypted by ransomware"},
    {"id": "q3", "text": "drivers ignored the route optimisation software"},
    {"id": "q4", "text": "guests complain the hotel wifi is slow"},
]
QRELS = [
    ("q1", "einvoicing-mandate-wholesaler", 2),
    ("q1", "einvoicing-rollout-print-shop", 1),
    ("q2", "ransomware-recovery-accounting-firm", 2),
    ("q2", "ransomware-attack-logistics-company", 2),
    ("q2", "backup-vendor-lost-month-architects", 1),
    ("q3", "route-planning-courier-abandoned", 2),
    ("q4", "wifi-upgrade-family-hotel", 2),
]

ISSUE_BODY = """### Title

Our bakery moved its orders to a cloud ERP

### Summary

A 30-person bakery moved orders and invoices to a cloud ERP in four months for 18,000 EUR;
order entry fell from three hours a night to forty minutes.

### Sector

Manufacturing

### Company size

Small (10-49 staff)

### Outcome

Partial success

### Technologies

Cloud ERP, e-invoicing

### Language of the lesson

English

### Country

IE

### Total cost in euros

18,000 €

### Duration in months

4

### Would you do it again?

Yes, with changes

### Context

We bake bread and cakes for about 60 shops and cafés in and around Cork. Orders came in by phone, fax and e-mail, and
three people typed them into an old accounting package every night, which caused mistakes in about one order in
twenty and long evenings for the office team.

### What we did

We chose a cloud ERP made for food producers after two demonstrations, cleaned our product list and our customer
records for six weeks first, and moved orders, delivery notes and invoices to it over four months. We kept the old
package running in parallel for one month.

### What happened

Order entry now takes forty minutes a night instead of three hours, and wrong deliveries fell by half. The label
printer in the packing room never worked with the new system, so we still print labels from a spreadsheet, and two
of our larger customers needed a month to accept the new invoice format.

### Lessons learned

Test every printer and scanner in the building before you sign, not after. Clean the data before the migration,
not during it. Tell your biggest customers early that invoices will change, and give them a sample to test.

### Advice

_No response_

### Your name or organisation

Example Bakery Ltd

### Publishing your name

- [ ] Publish my name or my organisation's name with the lesson
"""

DRAFT = """---
title: "Two-factor logins for the twelve people of our accounting office"
summary: "A 12-person accounting office turned on multi-factor authentication for e-mail and accounting in three weeks for 1,200 EUR."
date: 2025-10-02
sector: professional-services
company_size: small
country: "IE"
language: en
technologies: [mfa, microsoft-365, security-awareness]
outcome: success
status: draft
---

## Context

We are an accounting office with twelve staff and about 400 small-business clients. In spring a client of a
friendly firm lost money after a criminal took over an accountant's mailbox and sent fake payment details, and our
insurer asked whether we used multi-factor authentication. We did not: every account had only a password.

## What we did

We switched on multi-factor authentication for Microsoft 365 and for our cloud accounting software, gave each person
a hardware key and an authenticator app as a backup, and ran two short training sessions. We wrote a one-page guide
for lost keys and new phones. Hardware keys cost about 1,200 euros; the work took three weeks.

## What happened

Most staff were set up in ten minutes. Two older laptops could not use the keys and had to be replaced earlier than
planned, and the shared scanner mailbox stopped working until we gave it its own app password. Since then the
login alerts have shown two attempts from abroad, both blocked.

## Lessons learned

Plan for the shared and service accounts first: they break quietly. Keep a spare key in the safe and a written
procedure for lost phones, or the first lost device becomes an emergency. Training mattered more than the technology.
"""

CRM_PILOT = """---
title: "A CRM pilot in a twelve-person joinery that nobody kept up to date"
summary: "A 12-person joinery tried a cloud CRM for six months for 4,800 EUR, then went back to the spreadsheet."
date: 2025-03-10
sector: manufacturing
company_size: small
country: "PT"
language: en
technologies: [crm-sofware]
products: ["cloud CRM"]
cost_eur: 4800
outcome: abandonned
duration_months: 6
---

## Context

We are a joinery with twelve people near Braga. We make kitchens, wardrobes and doors to measure for private
customers and small builders. Quotes were kept in a shared spreadsheet and in the heads of the two owners.

## What we did

We chose a cloud CRM with a free trial, imported 900 contacts from the spreadsheet and our e-mail, and asked
everyone who meets customers to log each visit, call and quote. A local consultant set it up in four days.

## What happened

For two months every quote went into the CRM. Then the busy season came, the workshop manager stopped logging his
visits, the pipeline no longer matched reality, and after six months we went back to the spreadsheet.

## Lessons learned

- A CRM only works if the people who meet customers see a benefit for themselves.
- Start with quotes only, not with every call and visit, and agree who cleans the data before you import it.

## Advice

Try the tool on ten real quotes first. We wrote a checklist of questions for CRM vendors, and
we share it if you e-mail owners@joinery-braga.example.
"""

YOUR_LESSON = lesson_text(title='"Moving our 1,800 monthly invoices to e-invoicing before the mandate"', sample=None)

# Lesson files an example may name (in its command or its shown output): created for that example only.
NAMED_LESSONS = {"lessons/your-lesson.md": YOUR_LESSON, "lessons/crm-pilot.md": CRM_PILOT}
MODEL_COPY = "models/my-sentence-model"

# `lessons new` in a terminal: the start of each question, and what the test types.
NEW_ANSWERS = {
    "Title": "Selling our ceramics on two online marketplaces",
    "Sector": "manufacturing",
    "Company size": "micro",
    "Outcome": "partial",
    "Technologies": "marketplace, online-shop",
    "Language": "en",
    "Write your new lesson anyway?": "y",
}


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _environment(model_cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LESSONS_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["LESSONS_CACHE_DIR"] = str(model_cache)
    return env


@pytest.fixture(scope="module")
def template(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The knowledge base every example starts from: a git repository with an origin, the files examples name, an index."""
    root = copy_site_kb(tmp_path_factory.mktemp("docs-examples") / "kb")
    shutil.copytree(REPO / "schema", root / "schema")
    shutil.copytree(REPO / ".github" / "ISSUE_TEMPLATE", root / ".github" / "ISSUE_TEMPLATE")
    shutil.copy(REPO / ".gitignore", root / ".gitignore")
    queries = "".join(json.dumps(q) + "\n" for q in QUERIES)
    qrels = "".join(f"{q}\t{lesson}\t{grade}\n" for q, lesson, grade in QRELS)
    assert {lesson for _, lesson, _ in QRELS} <= set(STARTER)
    for name, text in {
        "queries.jsonl": queries,
        "qrels.tsv": qrels,
        "my-queries.jsonl": queries,
        "my-qrels.tsv": "query_id\tlesson_id\tgrade\n" + qrels,
        "issue-body.md": ISSUE_BODY,
        "drafts/my-new-lesson.md": DRAFT,
    }.items():
        _write(root, name, text)
    labels = {q.label for q in QUESTIONS}
    assert all(h[4:] in labels for h in ISSUE_BODY.splitlines() if h.startswith("### ")), "issue-body.md asks what the form does not"
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, *GIT_USER, "commit", "-q", "-m", "The knowledge base")
    git(root.parent, "clone", "-q", "--bare", str(root), "origin.git")
    git(root, "remote", "add", "origin", str(root.parent / "origin.git"))
    git(root, "fetch", "-q", "origin")
    proc = subprocess.run(["lessons", "index"], cwd=root, env=_environment(model_cache), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return root


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    asked: list[str]  # the questions answered in the terminal

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_in_terminal(command: str, cwd: Path, env: dict[str, str], answers: dict[str, str], timeout: float = 300) -> Run:
    """Run `command` in a pseudo-terminal, answering each question (a last line ending in ': ') that starts with a key of `answers`."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        ["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
    )
    os.close(slave)
    raw, answered_to, asked = b"", 0, []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the command ended and closed the terminal
                break
            if not chunk:
                break
            raw += chunk
            text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
            last_line = text[answered_to:].rsplit("\n", 1)[-1]
            if last_line.endswith(": "):
                question = next((q for q in answers if re.sub(r"\x1b\[[0-9;]*m", "", last_line).startswith(q)), None)
                assert question is not None, f"unexpected question {last_line!r}; output so far:\n{text}"
                asked.append(question)
                os.write(master, answers[question].encode() + b"\r")
                answered_to = len(text)
        else:
            proc.kill()
            pytest.fail(f"{command} did not finish in {timeout} s; output:\n{raw.decode('utf-8', 'replace')}")
        exit_code = proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Run(exit_code, raw.decode("utf-8", "replace").replace("\r\n", "\n"), "", asked)


def prepare(example: Example, root: Path) -> None:
    """What the example needs beyond the template: the lesson files and model folder it names; a branch to review."""
    named = example.command + "\n" + "\n".join(example.shown_output)
    for rel, text in NAMED_LESSONS.items():
        if rel in named:
            _write(root, rel, text)
    if MODEL_COPY in named:
        from indexer.search.embedding import bundled_model_dir

        shutil.copytree(bundled_model_dir(), root / MODEL_COPY)
    if example.one_line.startswith("lessons review"):
        git(root, "switch", "-q", "-c", "my-lesson")
        _write(root, "lessons/your-lesson.md", YOUR_LESSON)
        git(root, "add", "lessons/your-lesson.md")
        git(root, *GIT_USER, "commit", "-q", "-m", "Add a lesson")


def is_interactive(example: Example) -> bool:
    words = shlex.split(example.one_line)
    return words[:2] == ["lessons", "new"] and "--title" not in words


def _titles(lines: list[str] | tuple[str, ...], pattern: str) -> list[str]:
    return [m.group(1) for line in lines if (m := re.match(pattern, line))]


SEARCH_TITLE = r"^\d+\. (.+) \[\w+\]$"
SIMILAR_TITLE = r"^\s+\d\.\d{3}\s+(.+) \[\w+\]$"


def snapshot(root: Path) -> dict[str, int]:
    """Modification times of the knowledge base's files (outside .git/ and .lessons/), by relative path."""
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and not {".git", ".lessons"} & set(p.relative_to(root).parts)
    }


def check_effects(example: Example, root: Path, run: Run, before: dict[str, int]) -> None:
    """What the example says it does, checked where it is cheap to check. `before`: the snapshot taken before it ran."""
    words = shlex.split(example.one_line.split(" | ")[0].split(" > ")[0])
    name, args = words[1], words[2:]
    out, shown = run.output, list(example.shown_output)
    piped = " | " in example.one_line
    as_json = not piped and ("--json" in args or ("--format" in args and args[args.index("--format") + 1] == "json"))
    data = json.loads(run.stdout) if as_json else None
    for flag in ("-o", "--output"):
        if flag in args:
            written = args[args.index(flag) + 1]
            assert (root / written).is_file() and (root / written).stat().st_size > 0, written
            assert (root / written).stat().st_mtime_ns > before.get(written, 0), f"{written} was not written"
    if " > " in example.one_line:
        target = root / example.one_line.rsplit(" > ", 1)[1].strip()
        lines = target.read_text(encoding="utf-8").splitlines()
        assert lines, f"{target.name} is empty"
        if target.suffix == ".jsonl":
            assert all(json.loads(line) for line in lines)

    if shown and name in ("search", "similar"):
        pattern = SEARCH_TITLE if name == "search" else SIMILAR_TITLE
        expected = _titles(shown, pattern)
        assert expected, f"no lesson titles recognised in the shown output of {example.id}"
        assert _titles(run.stdout.splitlines(), pattern) == expected, run.stdout
    if shown and name == "check":
        for line in shown:
            if re.match(r"^lessons/\S+:\d+:\d+: (error|warning): ", line) or line.startswith(("FAILED", "OK")):
                assert line in out.splitlines(), f"README shows {line!r}; the real output is:\n{out}"

    if name == "check" and not shown:
        files = [a for a in args if not a.startswith("-")]
        if data is not None:
            assert data["files"] == len(files or STARTER) and data["findings"] == [], data
        elif not piped:  # piped into jq: with pipefail, the example fails if the JSON does not parse
            assert f"OK: {len(files) if files else len(STARTER)} lesson file(s) checked, 0 error(s), 0 warning(s)" in out, out
    elif name == "stats":
        if data is not None:
            assert data["total"] == len(STARTER)
        else:
            assert run.stdout.startswith(f"{len(STARTER)} lessons")
    elif name == "schema" and "-o" not in args:
        assert json.loads(run.stdout)["title"]
    elif name == "schema":
        assert json.loads((root / args[args.index("-o") + 1]).read_text()) == json.loads((REPO / "schema/lesson.schema.json").read_text())
    elif name == "issue-form":
        assert (root / args[args.index("-o") + 1]).read_text() == (REPO / ".github/ISSUE_TEMPLATE/lesson.yml").read_text()
    elif name == "index":
        if "--rebuild" in args or "--model" in args:  # every lesson embedded again (by the other model)
            embedded = re.search(rf"^Indexed {len(STARTER)} lessons \(\d+ passages\): .*; (\d+) passages embedded", run.stdout, re.M)
            assert embedded and int(embedded.group(1)) > 0, out
        else:
            assert f"Index is up to date: {len(STARTER)} lessons" in run.stdout, out
    elif name == "search" and "--batch" in args:
        hits = [json.loads(line) for line in (root / "hits.jsonl").read_text().splitlines()]
        assert [h["query_id"] for h in hits] == [q["id"] for q in QUERIES] and all(h["hits"] for h in hits)
    elif name == "search" and data is not None:
        assert data["results"] and all(r["language"] == args[args.index("--language") + 1] for r in data["results"] if "--language" in args)
    elif name == "search":
        outcomes = re.findall(r"^\d+\. .+ \[(\w+)\]$", run.stdout, re.MULTILINE)
        wanted = {args[i + 1] for i, a in enumerate(args) if a == "--outcome"}
        top = int(args[args.index("-k") + 1]) if "-k" in args else 5
        assert outcomes and len(outcomes) <= top and (not wanted or set(outcomes) <= wanted), run.stdout
    elif name == "similar" and data is not None:
        assert data["similar"] and all(hit["id"] in STARTER for hit in data["similar"]), run.stdout
    elif name == "similar":
        assert re.search(r"^(Chosen by the author|Likely duplicate|Related):", run.stdout, re.MULTILINE), run.stdout
    elif name == "eval":
        weight = float(args[args.index("--dense-weight") + 1]) if "--dense-weight" in args else DEFAULT_DENSE_WEIGHT
        if data is not None:
            assert data["queries"] == len(QUERIES) and data["dense_weight"] == weight and data["ndcg_at_10"] > 0.5, data
        else:
            assert re.search(rf"^{len(QUERIES)} queries \(dense weight {weight}\): nDCG@10 0\.\d+", run.stdout), run.stdout
    elif name == "review":
        if data is not None:
            changed = [(entry["path"], entry["status"]) for entry in data["lessons"]]
            assert changed == [("lessons/your-lesson.md", "added")] and data["lessons"][0]["similar"], data
        else:
            assert "1 lesson file(s) changed against `origin/main`" in run.stdout and "`lessons/your-lesson.md` added" in run.stdout, out
            assert "Has anyone tried this already?" in run.stdout and "Related (0." in run.stdout, out
    elif name == "from-issue":
        created = re.search(r"^Created (lessons/[a-z0-9-]+\.md)$", run.stdout, re.MULTILINE)
        assert created and created.group(1) not in before and (root / created.group(1)).is_file(), out
        front = front_matter((root / created.group(1)).read_text())
        assert front["contributor"] == "anonymous", "the box to be named was not ticked"
        assert front["cost_eur"] == 18000, "18,000 € in an English lesson is eighteen thousand"
    elif name == "new":
        created = re.search(r"Created (lessons/[a-z0-9-]+\.md)", run.stdout)
        assert created and created.group(1) not in before and (root / created.group(1)).is_file(), out
        assert "Has anyone tried this already?" in out, "lessons new shows the similar lessons first"
        if run.asked:
            text = (root / created.group(1)).read_text()
            assert f"outcome: {NEW_ANSWERS['Outcome']}" in text and "technologies: [marketplace, online-shop]" in text, text
    elif name == "site":
        engine = args[args.index("--engine") + 1] if "--engine" in args else "mkdocs"
        assert f"Built the site for {len(STARTER)} lessons with {engine} into site" in out, out
        assert (root / "site" / "index.html").is_file() and (root / "site" / "lessons" / STARTER[0] / "index.html").is_file()
        assert (root / "site" / "cli" / "index.html").is_file(), "the command reference is part of the site"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_documented_example_runs_as_written(example: Example, template: Path, model_cache: Path, tmp_path: Path) -> None:
    if " | jq " in example.command and shutil.which("jq") is None:
        pytest.skip("jq is not installed (scripts/setup --test installs it)")
    root = tmp_path / "kb"
    shutil.copytree(template, root, copy_function=shutil.copy2, symlinks=True)
    prepare(example, root)
    env = _environment(model_cache)
    before = snapshot(root)
    if is_interactive(example):
        run = run_in_terminal(example.command, root, env, NEW_ANSWERS)
        assert run.asked[:6] == list(NEW_ANSWERS)[:6], run.stdout
    else:
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", example.command],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        run = Run(proc.returncode, proc.stdout, proc.stderr, [])
    assert run.exit_code == example.expected_exit, f"exit code {run.exit_code}, documented {example.expected_exit}:\n{run.output[-4000:]}"
    check_effects(example, root, run, before)
