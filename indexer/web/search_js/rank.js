// Ranking lessons for a question, as `lessons search` does (indexer/search/rank.py): the best passage's cosine
// of each lesson fused with its BM25 score over the whole lesson, filters applied before the cut, one result
// per lesson. Every number comes from ranking.json, written by indexer/search/export.py: Python is the one
// definition, and tests/slow/test_search_page.py keeps the two equal.

// Lower-case words without accents, as bm25.tokenize: the same words match on both sides.
export function tokenize(text, bm25) {
  const stop = bm25.stopSet ??= new Set(bm25.stop_words);
  const folded = text.toLowerCase().replace(/ß/g, "ss").normalize("NFKD").replace(/\p{M}/gu, "");
  const words = folded.match(/[\p{L}\p{N}_]+/gu) || [];
  return words.filter((w) => [...w].length >= bm25.min_length && !stop.has(w) && !w.startsWith("_"));
}

// Okapi BM25 of every exported lesson (bm25.KeywordIndex.scores), with the whole index's statistics.
export function keywordScores(query, keyword, bm25) {
  const terms = keyword.termMap ??= new Map(Object.entries(keyword.terms));
  const out = new Float64Array(keyword.lengths.length);
  const n = keyword.lessons;
  for (const term of new Set(tokenize(query, bm25))) {
    const posting = terms.get(term);
    if (!posting) continue;
    const [df, rows, tfs] = posting;
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    rows.forEach((row, i) => {
      const norm = bm25.k1 * (1 - bm25.b + (bm25.b * keyword.lengths[row]) / keyword.average_length);
      out[row] += (idf * tfs[i]) / (tfs[i] + norm);
    });
  }
  return out;
}

// For each lesson, its best passage's cosine with the query and that passage's number (the first one on ties).
// Passage vectors are int8 with one scale each: cosine = scale * (q . v).
export function denseScores(query, vectors) {
  const { values, scales, counts, dimension } = vectors;
  const best = new Float64Array(counts.length).fill(-Infinity);
  const bestPassage = new Int32Array(counts.length);
  let p = 0;
  counts.forEach((count, lesson) => {
    for (let end = p + count; p < end; p++) {
      let dot = 0;
      for (let d = 0, o = p * dimension; d < dimension; d++) dot += query[d] * values[o + d];
      const cosine = dot * scales[p];
      if (cosine > best[lesson]) [best[lesson], bestPassage[lesson]] = [cosine, p];
    }
  });
  return { best: best.map((x) => (x === -Infinity ? 0 : x)), bestPassage };
}

// Which lessons pass the filters: within a facet any value matches, across facets all must (rank.allowed_lessons).
export function allowedMask(lessons, filters) {
  return lessons.map((lesson) => {
    for (const [field, wanted] of Object.entries(filters.facets)) {
      if (!wanted.length) continue;
      const have = Array.isArray(lesson[field]) ? lesson[field] : [lesson[field]];
      const values = field === "country" ? wanted.map((c) => c.toUpperCase()) : wanted;
      if (!have.some((v) => values.includes(v))) return false;
    }
    return !filters.since || lesson.date >= filters.since;
  });
}

// rank.fuse: a convex combination of the dense score and BM25 scaled by the best BM25 among the allowed lessons.
export function fuse(dense, keyword, allowed, denseWeight) {
  let top = 0;
  allowed.forEach((ok, i) => { if (ok && keyword[i] > top) top = keyword[i]; });
  return Array.from(dense, (d, i) => (allowed[i] ? denseWeight * d + (1 - denseWeight) * (top > 0 ? keyword[i] / top : 0) : -Infinity));
}

// The k best allowed lessons, highest score first, ties in index order (numpy's stable argsort).
export function topLessons(scores, allowed, k) {
  const rows = [];
  allowed.forEach((ok, i) => { if (ok) rows.push(i); });
  rows.sort((a, b) => scores[b] - scores[a] || a - b);
  return rows.slice(0, k);
}

// search/close.py: no allowed lesson is close when the best cosine is low and no lesson shares a word.
export function nothingClose(dense, keyword, allowed, rule) {
  let bestDense = -Infinity, bestKeyword = -Infinity;
  allowed.forEach((ok, i) => {
    if (!ok) return;
    bestDense = Math.max(bestDense, dense[i]);
    bestKeyword = Math.max(bestKeyword, keyword[i]);
  });
  return bestDense === -Infinity || (bestDense < rule.dense_below && bestKeyword <= rule.keyword_below);
}
