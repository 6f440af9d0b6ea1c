"""Keyword scoring: Okapi BM25 over whole lessons, stored as plain numpy arrays.

The postings are kept as raw term frequencies (a term -> lessons matrix in CSC layout), and BM25 is
computed at query time for the query's terms only. Adding or removing one lesson therefore only
re-sorts arrays, with no re-scoring of the corpus, and the files load with `allow_pickle=False`.
Scores rank exactly like bm25s with the Lucene variant (k1 1.5, b 0.75), which the tests check.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.5
B = 0.75

_STOP_EN = """a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only
or other our ours ourselves out over own same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself yourselves also us""".split()
_STOP_ES = """a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante e el ella ellas
ellos en entre era eran es esa esas ese eso esos esta estaba estaban estar estas este esto estos fue fueron ha han hasta
hay la las le les lo los mas me mi mis mucho muy nada ni no nos nosotros o os otra otras otro otros para pero poco por
porque que quien se sea ser si sin sobre su sus tambien te tiene tienen todo todos tu tus un una unas uno unos y ya yo""".split()
STOP_WORDS = frozenset(_STOP_EN + _STOP_ES)
# Words that ask rather than say what is asked about ("has anyone tried X?"): ignored in questions, never in lessons.
QUESTION_WORDS = frozenset(
    "anyone anybody someone somebody tried try trying experience experiences alguien probado probar experiencia experiencias".split()
)
_WORD = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Lower-case words of two or more characters without accents (so 'facturación' matches 'facturacion'), stop words removed."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [w for w in _WORD.findall(folded) if len(w) > 1 and w not in STOP_WORDS and not w.startswith("_")]


def question_terms(query: str) -> list[str]:
    """A question's distinct keyword terms, in order, without the words that only ask (`QUESTION_WORDS`)."""
    return [t for t in dict.fromkeys(tokenize(query)) if t not in QUESTION_WORDS]


@dataclass
class KeywordIndex:
    """Term frequencies of every lesson: `vocab` term -> column; postings of term t are docs/tfs[indptr[t]:indptr[t+1]]."""

    vocab: dict[str, int]
    indptr: np.ndarray  # int64, len(vocab) + 1
    docs: np.ndarray  # int32 lesson rows
    tfs: np.ndarray  # float32 term frequencies
    doc_len: np.ndarray  # float32 tokens per lesson

    @property
    def size(self) -> int:
        return len(self.doc_len)

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every lesson for `query` (float32, one per lesson row)."""
        out = np.zeros(self.size, dtype=np.float32)
        for match in self.matches(set(tokenize(query))):
            out[match.docs] += match.scores
        if allowed is not None:
            out[~allowed] = 0.0
        return out

    def matches(self, terms: Iterable[str]) -> list[TermMatch]:
        """Each term's document frequency, IDF and BM25 contribution in the lessons that contain it (in `terms` order)."""
        n = self.size
        avgdl = float(self.doc_len.mean()) if n else 1.0
        out = []
        for term in terms:
            col = self.vocab.get(term)
            lo, hi = (self.indptr[col], self.indptr[col + 1]) if col is not None else (0, 0)
            docs, tf = self.docs[lo:hi], self.tfs[lo:hi]
            norm = K1 * (1.0 - B + B * self.doc_len[docs] / (avgdl or 1.0))
            weight = idf(n, hi - lo)
            out.append(TermMatch(term, int(hi - lo), weight, docs, (weight * tf / (tf + norm)).astype(np.float32)))
        return out


def idf(n: int, df: int) -> float:
    """Lucene's BM25 inverse document frequency of a term found in `df` of `n` lessons."""
    return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))


@dataclass(frozen=True)
class TermMatch:
    """One query term in the keyword index: in how many lessons it occurs, its IDF, and its BM25 score in each of them."""

    term: str
    df: int
    idf: float
    docs: np.ndarray  # lesson rows containing the term
    scores: np.ndarray  # the term's BM25 contribution in each of those lessons


def doc_terms(text: str, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """A text's distinct term ids (new terms are added to `vocab`) and their counts."""
    counter = Counter(tokenize(text))
    ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in counter), dtype=np.int64, count=len(counter))
    return ids, np.fromiter(counter.values(), dtype=np.float32, count=len(counter))


def build(texts: Sequence[str]) -> KeywordIndex:
    """Index texts from scratch."""
    vocab: dict[str, int] = {}
    pairs = [doc_terms(text, vocab) for text in texts]
    return assemble(vocab, [p[0] for p in pairs], [p[1] for p in pairs])


def assemble(vocab: dict[str, int], terms: Sequence[np.ndarray], counts: Sequence[np.ndarray]) -> KeywordIndex:
    """Build the term-major arrays from per-lesson (term ids, counts), lesson rows in order."""
    return merge(None, np.zeros(0, dtype=np.int64), list(enumerate(zip(terms, counts))), vocab, len(terms))


def merge(
    old: KeywordIndex | None,
    row_map: np.ndarray,
    new_docs: Sequence[tuple[int, tuple[np.ndarray, np.ndarray]]],
    vocab: dict[str, int],
    n_docs: int,
) -> KeywordIndex:
    """A new index from the kept lessons of `old` and some new lessons, without re-reading the kept ones.

    `row_map[old_row]` is the kept lesson's new row, or -1 if it is dropped; `new_docs` holds
    (new row, (term ids, counts)). Old postings are already sorted by term, so the stable sort of the
    concatenation is close to linear.
    """
    doc_len = np.zeros(n_docs, dtype=np.float32)
    parts_terms, parts_docs, parts_tfs = [], [], []
    if old is not None and old.size:
        term_of = np.repeat(np.arange(len(old.indptr) - 1, dtype=np.int64), np.diff(old.indptr))
        new_rows = row_map[old.docs]
        kept = new_rows >= 0
        parts_terms.append(term_of[kept])
        parts_docs.append(new_rows[kept].astype(np.int32))
        parts_tfs.append(old.tfs[kept])
        kept_rows = np.nonzero(row_map >= 0)[0]
        doc_len[row_map[kept_rows]] = old.doc_len[kept_rows]
    for row, (ids, cnt) in new_docs:
        parts_terms.append(np.asarray(ids, dtype=np.int64))
        parts_docs.append(np.full(len(ids), row, dtype=np.int32))
        parts_tfs.append(np.asarray(cnt, dtype=np.float32))
        doc_len[row] = float(np.sum(cnt))
    all_terms = np.concatenate(parts_terms) if parts_terms else np.zeros(0, dtype=np.int64)
    all_docs = np.concatenate(parts_docs) if parts_docs else np.zeros(0, dtype=np.int32)
    all_tfs = np.concatenate(parts_tfs) if parts_tfs else np.zeros(0, dtype=np.float32)
    order = np.argsort(all_terms, kind="stable")
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_terms, minlength=len(vocab)), out=indptr[1:])
    return KeywordIndex(vocab, indptr, all_docs[order], all_tfs[order].astype(np.float32), doc_len)
