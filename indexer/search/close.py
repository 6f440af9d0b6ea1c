"""When no lesson is close to a question: the one rule, used by the website's search page (which reads
`NOTHING_CLOSE` from the exported ranking parameters) and meant for `lessons search` as well.

A first, deliberately simple rule, to be replaced by a calibrated one (issue 10): nothing is close when the
best lesson's meaning score is low and no lesson shares a word of the question.
"""

from __future__ import annotations

import numpy as np

# best passage cosine below which a lesson is not about the question; chosen on a handful of starter queries
NOTHING_CLOSE = {"dense_below": 0.35, "keyword_below": 0.0}


def nothing_close(dense: np.ndarray, keyword: np.ndarray, allowed: np.ndarray, rule: dict[str, float] = NOTHING_CLOSE) -> bool:
    """True when no allowed lesson is close: its best cosine is under the bar and its raw BM25 score is not above the keyword bar."""
    if not allowed.any():
        return True
    return bool(dense[allowed].max() < rule["dense_below"] and keyword[allowed].max() <= rule["keyword_below"])
