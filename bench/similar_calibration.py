"""Calibration of `lessons similar` tiers on the starter corpus.

Scores every pair of starter lessons the way `lessons similar` does (0.8 x cosine of lesson vectors +
0.2 x shared technologies), then prints how the pairs marked `related` in both directions (the same
problem told by two companies) separate from all other pairs, and how lightly edited copies
(resubmissions) score against their original. The thresholds in lessons.toml come from these figures.

    python bench/similar_calibration.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.cases import lightly_edited, retold  # noqa: E402
from indexer.core.kb import find_root  # noqa: E402
from indexer.core.settings import load_settings  # noqa: E402
from indexer.search.likeness import containment, shingles  # noqa: E402
from indexer.search.session import open_session  # noqa: E402
from indexer.search.similar import (  # noqa: E402
    DUPLICATE_SHINGLES,
    MEANING_WEIGHT,
    RELATED_OTHER_LANGUAGE,
    Tiers,
    draft_target,
    lesson_shingles,
    similar_to_vector,
)


def main() -> None:
    kb = find_root(explicit=REPO)
    settings = load_settings(REPO)
    cache = os.environ.get("LESSONS_CACHE_DIR")  # a benchmark is an entry point: it may read the environment
    session = open_session(kb, settings, model="bundled", cache_dir=Path(cache) if cache else None, log=print)
    data, embedder = session.index, session.embedder
    vectors = data.lesson_vectors.reconstruct_n(0, data.lesson_vectors.ntotal)
    recs = data.lessons
    n = len(recs)
    techs = [set(r["technologies"]) for r in recs]
    overlap = np.array([[len(techs[i] & techs[j]) / len(techs[i] | techs[j]) for j in range(n)] for i in range(n)])
    score = MEANING_WEIGHT * (vectors @ vectors.T) + (1 - MEANING_WEIGHT) * overlap
    ids = [r["id"] for r in recs]
    pairs = {tuple(sorted((i, ids.index(o)))) for i, r in enumerate(recs) for o in r.get("related", []) if o in ids}
    same = sorted(score[i, j] for i, j in pairs if recs[i]["language"] == recs[j]["language"])
    cross = sorted(score[i, j] for i, j in pairs if recs[i]["language"] != recs[j]["language"])
    print(f"{len(pairs)} related pairs in the starter corpus ({len(same)} in one language, {len(cross)} across languages)")
    print(f"same-language pairs: min {min(same):.3f}, median {np.median(same):.3f}, max {max(same):.3f}")
    print(f"cross-language pairs: min {min(cross):.3f}, median {np.median(cross):.3f}, max {max(cross):.3f}")
    others_cross = [
        score[i, j] for i in range(n) for j in range(i + 1, n) if (i, j) not in pairs and recs[i]["language"] != recs[j]["language"]
    ]
    others_same = [
        score[i, j] for i in range(n) for j in range(i + 1, n) if (i, j) not in pairs and recs[i]["language"] == recs[j]["language"]
    ]
    rel, dup, rel_x = settings.related_threshold, settings.duplicate_threshold, RELATED_OTHER_LANGUAGE
    print(
        f"other same-language pairs: {len(others_same)}, max {max(others_same):.3f}, 99th percentile "
        f"{np.percentile(others_same, 99):.3f}, {sum(s >= rel for s in others_same)} at or above the related threshold {rel}"
    )
    print(
        f"other cross-language pairs: {len(others_cross)}, max {max(others_cross):.3f}, 99th percentile "
        f"{np.percentile(others_cross, 99):.3f}, {sum(s >= rel_x for s in others_cross)} at or above the other-language threshold {rel_x}"
    )
    print(f"same-language related pairs at or above {rel}: {sum(s >= rel for s in same)} of {len(same)}")
    print(f"cross-language related pairs at or above {rel_x}: {sum(s >= rel_x for s in cross)} of {len(cross)}")
    lexical = [containment(lesson_shingles(data, i), lesson_shingles(data, j)) for i in range(n) for j in range(i + 1, n)]
    print(f"shingle containment of distinct lessons: max {max(lexical):.3f} (duplicate from {DUPLICATE_SHINGLES})")
    for kind, rewrite in (("lightly edited", lambda text, lesson_id: lightly_edited(text)), ("retold (reordered, retitled)", retold)):
        report_copies(kb, data, embedder, recs, kind, rewrite, Tiers(dup, rel))


def report_copies(kb, data, embedder, recs, kind: str, rewrite, tiers: Tiers) -> None:  # type: ignore[no-untyped-def]
    """Score a rewritten copy of every lesson against the index, the way `lessons similar` does for a draft."""
    scores, lexical, flagged = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for rec in recs:
            draft = Path(tmp) / f"copy-{rec['id']}.md"
            draft.write_text(rewrite((REPO / rec["path"]).read_text(encoding="utf-8"), f"copy-{rec['id']}"), encoding="utf-8")
            _, target = draft_target(kb, embedder, draft)
            hits = similar_to_vector(data, target, {f"copy-{rec['id']}"}, 3, tiers)
            mine = next((h for h in hits if h.id == rec["id"]), None)
            scores.append(mine.score if mine else 0.0)
            lexical.append(containment(target.shingles, shingles([data.passage(i) for i in passages_of(data, rec["id"])])))
            flagged += bool(mine and mine.tier == "likely duplicate")
    print(
        f"{kind} copies against their original: meaning score min {min(scores):.3f}, median {np.median(scores):.3f}; "
        f"shingle containment min {min(lexical):.3f}; {flagged} of {len(recs)} flagged as likely duplicates"
    )


def passages_of(data, lesson_id: str) -> range:  # type: ignore[no-untyped-def]
    row = data.row_of(lesson_id)
    lo, hi = np.searchsorted(data.passage_lesson, [row, row + 1])
    return range(int(lo), int(hi))


if __name__ == "__main__":
    main()
