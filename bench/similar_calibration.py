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

from indexer.core.kb import find_root  # noqa: E402
from indexer.core.settings import load_settings  # noqa: E402
from indexer.search.session import open_session  # noqa: E402
from indexer.search.similar import MEANING_WEIGHT, Tiers, draft_vector, similar_to_vector  # noqa: E402


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
    others = [score[i, j] for i in range(n) for j in range(i + 1, n) if (i, j) not in pairs]
    rel, dup = settings.related_threshold, settings.duplicate_threshold
    print(f"{len(pairs)} related pairs in the starter corpus ({len(same)} in one language, {len(cross)} across languages)")
    print(f"same-language pairs: min {min(same):.3f}, median {np.median(same):.3f}, max {max(same):.3f}")
    print(f"cross-language pairs: max {max(cross):.3f} (the bundled model is English-only: these are not found)")
    print(
        f"other pairs: {len(others)}, max {max(others):.3f}, 99th percentile {np.percentile(others, 99):.3f}, "
        f"{sum(s >= rel for s in others)} at or above the related threshold {rel}"
    )
    print(f"same-language pairs at or above the related threshold: {sum(s >= rel for s in same)} of {len(same)}")
    copies = []
    with tempfile.TemporaryDirectory() as tmp:
        for rec in recs:
            lines = (REPO / rec["path"]).read_text(encoding="utf-8").splitlines()
            body_start = lines.index("---", 1) + 1
            draft = Path(tmp) / f"resubmitted-{rec['id']}.md"
            # a resubmission: last paragraph dropped, a few words of the body changed
            body = [line.replace(" we ", " our team ") for line in lines[body_start:-4]]
            draft.write_text("\n".join(lines[:body_start] + body) + "\n", encoding="utf-8")
            vector, _, technologies = draft_vector(kb, embedder, draft)
            hits = similar_to_vector(data, vector, technologies, {f"resubmitted-{rec['id']}"}, 1, Tiers(dup, rel))
            copies.append(hits[0].score if hits and hits[0].id == rec["id"] else 0.0)
    print(
        f"resubmitted copies against their original: min {min(copies):.3f}, median {np.median(copies):.3f}; "
        f"{sum(c >= dup for c in copies)} of {len(copies)} at or above the duplicate threshold {dup}; "
        f"highest pair of distinct lessons {max(same + others):.3f}"
    )


if __name__ == "__main__":
    main()
