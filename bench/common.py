"""Generating synthetic knowledge bases for benchmarks: valid, varied lessons built from the starter corpus."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def make_knowledge_base(root: Path, count: int, seed: int = 7, distinct_titles: bool = True) -> Path:
    """Write `count` valid lessons under root/lessons, recombining sections of the starter lessons.

    With distinct_titles=False, lessons built on the same starter lesson share its title, so many
    passages repeat word for word and the indexer embeds each distinct passage once.
    """
    from indexer.core.check import check_knowledge_base
    from indexer.core.kb import find_root

    starter = check_knowledge_base(find_root(explicit=REPO)).lessons
    english = [lesson for lesson in starter if lesson.meta.language == "en"]
    rng = random.Random(seed)
    lessons_dir = root / "lessons"
    lessons_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "lessons" / "taxonomy.yml", lessons_dir / "taxonomy.yml")
    for i in range(count):
        base = english[i % len(english)]
        donors = rng.sample(english, 3)
        sections = [s for s in base.sections if s.key]
        # Mix sections from other lessons so passages differ while staying realistic prose.
        parts = []
        for j, section in enumerate(sections):
            source = donors[j % 3] if j in (1, 2) else base
            match = next((s for s in source.sections if s.key == section.key), section)
            parts.append(f"## {section.heading}\n\n{match.text}\n")
        meta = base.meta
        front = "\n".join(
            [
                "---",
                f'title: "{meta.title[:100]} (case {i})"' if distinct_titles else f'title: "{meta.title}"',
                f'summary: "{meta.summary.replace(chr(34), chr(39))}"',
                f"date: {meta.date.isoformat()}",
                f"sector: {meta.sector}",
                f"company_size: {meta.company_size}",
                f"technologies: [{', '.join(meta.technologies)}]",
                f"outcome: {rng.choice(['success', 'partial', 'failure', 'abandoned', 'ongoing'])}",
                f'country: "{meta.country or "DE"}"',
                f"cost_eur: {rng.randint(500, 200000)}",
                "sample: true",
                "---",
                "",
            ]
        )
        (lessons_dir / f"synthetic-lesson-{i:05d}.md").write_text(front + "\n".join(parts), encoding="utf-8")
    return root
