// Ranking lessons for a question as `lessons search` does: indexer/search/fusion.py holds the formula (its
// docstring is the whole rule) and rank.py applies it. Every number and word list comes from ranking.json,
// written by indexer/search/export.py, so Python is the one definition; tests keep the two equal
// (tests/quick/test_search_export.py runs this file with Node, tests/slow/test_search_page.py in Chromium).

const fold = (text) => text.toLowerCase().replace(/ß/g, "ss").normalize("NFKD").replace(/\p{M}/gu, "");
const WORD = /[\p{L}\p{N}_]+/gu; // Python's \w once accents are gone

// bm25.tokenize: lower-case words without accents, two characters or more, no stop words.
export function tokenize(text, bm25) {
  const stop = (bm25.stopSet ??= new Set(bm25.stop_words));
  return (fold(text).match(WORD) || []).filter((w) => [...w].length >= bm25.min_length && !stop.has(w) && !w.startsWith("_"));
}

// bm25.question_terms: the distinct terms, without the words that only ask ("anyone", "tried", "probado").
export function questionTerms(query, bm25) {
  const asking = (bm25.askSet ??= new Set(bm25.question_words));
  return [...new Set(tokenize(query, bm25))].filter((t) => !asking.has(t));
}

// expansion.expand: the taxonomy entries the question names, their extra keyword words and English labels.
export function expand(query, entries, bm25) {
  const text = ` ${fold(query.replace(/[^\p{L}\p{N}_\s-]/gu, " ")).replace(/[-_/]+/g, " ").split(/\s+/).filter(Boolean).join(" ")} `;
  const named = entries.filter((e) => e.phrases.some((p) => text.includes(` ${p} `)));
  const asked = new Set(tokenize(query, bm25));
  const terms = [...new Set(named.flatMap((e) => e.words).filter((w) => !asked.has(w)))];
  return { named, terms, labels: [...new Set(named.map((e) => e.label))] };
}

export const denseText = (query, expansion) => (expansion.labels.length ? `${query} (${expansion.labels.join(", ")})` : query);

// KeywordIndex.matches: each term's document frequency, IDF and BM25 contribution in the lessons holding it.
function matches(terms, keyword, fusion) {
  const postings = (keyword.termMap ??= new Map(Object.entries(keyword.terms)));
  const n = keyword.lessons;
  return terms.map((term) => {
    const [df, rows, tfs] = postings.get(term) || [0, [], []];
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    const scores = rows.map((row, i) => {
      const norm = fusion.bm25_k1 * (1 - fusion.bm25_b + (fusion.bm25_b * keyword.lengths[row]) / (keyword.average_length || 1));
      return (idf * tfs[i]) / (tfs[i] + norm);
    });
    return { df, idf, rows, scores };
  });
}

// fusion.keyword_evidence: BM25 with the taxonomy's extra terms, coverage by the question's own terms, rare share.
export function keywordEvidence(query, expansion, keyword, ranking) {
  const { fusion } = ranking;
  const size = keyword.lengths.length;
  const [plain, rare, bm25] = [new Float64Array(size), new Float64Array(size), new Float64Array(size)];
  const limit = Math.max(1, Math.floor(fusion.rare_share * keyword.lessons));
  const own = matches(questionTerms(query, ranking.bm25), keyword, fusion);
  for (const m of own) {
    m.rows.forEach((row, i) => {
      plain[row] += m.scores[i];
      if (m.df >= 1 && m.df <= limit) rare[row] += m.idf;
    });
  }
  bm25.set(plain);
  for (const m of matches(expansion.terms, keyword, fusion)) m.rows.forEach((row, i) => (bm25[row] += fusion.expansion_weight * m.scores[i]));
  const mass = own.reduce((sum, m) => sum + (m.df > 0 ? m.idf : 0), 0);
  const asked = own.reduce((sum, m) => sum + m.idf, 0); // a word no lesson contains counts too (df 0)
  if (mass <= 0) return { bm25, coverage: new Float64Array(size), rare: new Float64Array(size) };
  return { bm25, coverage: plain.map((x) => Math.min(1, x / asked)), rare: rare.map((x) => x / mass) };
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

// fusion.centre_languages: each language's lessons compared on their own level (all exported lessons are published).
export function centreLanguages(dense, lessons, fusion) {
  if (!dense.length || !fusion.language_centering) return dense;
  const mean = (rows) => rows.reduce((s, i) => s + dense[i], 0) / rows.length;
  const overall = mean(lessons.map((_, i) => i));
  const groups = new Map();
  lessons.forEach((lesson, i) => groups.set(lesson.language, [...(groups.get(lesson.language) || []), i]));
  const out = Float64Array.from(dense);
  for (const rows of groups.values()) {
    const shift = fusion.language_centering * (mean(rows) - overall);
    for (const i of rows) out[i] -= shift;
  }
  return out;
}

// rank.topic_lessons: 1 for lessons with a technology the question names.
export function topicLessons(lessons, expansion) {
  const named = new Set(expansion.named.filter((e) => e.section === "technologies").map((e) => e.slug));
  return lessons.map((lesson) => (named.size && (lesson.technologies || []).some((t) => named.has(t)) ? 1 : 0));
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

// fusion.fuse: meaning (language-centred), BM25 scaled by the best allowed lesson's, rare words, named topic.
export function fuse(centred, evidence, topic, allowed, denseWeight, fusion) {
  let top = 0;
  allowed.forEach((ok, i) => { if (ok && evidence.bm25[i] > top) top = evidence.bm25[i]; });
  return Array.from(centred, (d, i) => (allowed[i]
    ? denseWeight * d + (1 - denseWeight) * (top > 0 ? evidence.bm25[i] / top : 0) + fusion.rare_weight * evidence.rare[i] + fusion.topic_bonus * topic[i]
    : -Infinity));
}

// The k best allowed lessons, highest score first, ties in index order (numpy's stable argsort).
export function topLessons(scores, allowed, k) {
  const rows = [];
  allowed.forEach((ok, i) => { if (ok) rows.push(i); });
  rows.sort((a, b) => scores[b] - scores[a] || a - b);
  return rows.slice(0, k);
}

// fusion.closeness and fusion.nothing_close, over the allowed lessons, with the plain (unexpanded) meaning.
export function nothingClose(plainDense, evidence, topic, allowed, fusion) {
  let dense = 0, coverage = 0, named = false, any = false;
  allowed.forEach((ok, i) => {
    if (!ok) return;
    dense = any ? Math.max(dense, plainDense[i]) : plainDense[i];
    coverage = any ? Math.max(coverage, evidence.coverage[i]) : evidence.coverage[i];
    named ||= topic[i] > 0;
    any = true;
  });
  const evidenceClose = dense + coverage + (named ? fusion.topic_weight : 0);
  return evidenceClose < fusion.close_threshold;
}

// One question, as rank.answer. `dense` holds the best-passage scores of the question as typed (plain) and with
// the named technologies' English labels (wide); null while the model loads, when only keyword evidence ranks.
export function rankQuestion(query, data, allowed, k, dense) {
  const { ranking, lessons, keyword } = data;
  const expansion = expand(query, ranking.expansion, ranking.bm25);
  const evidence = keywordEvidence(query, expansion, keyword, ranking);
  const topic = topicLessons(lessons.lessons, expansion);
  const wide = dense ? dense.wide.best : new Float64Array(lessons.lessons.length);
  const centred = dense ? centreLanguages(wide, lessons.lessons, ranking.fusion) : wide;
  const fused = fuse(centred, evidence, topic, allowed, ranking.dense_weight, ranking.fusion);
  const rows = topLessons(fused, allowed, k);
  if (!dense) return { rows: rows.filter((row) => evidence.bm25[row] > 0 || topic[row] > 0), expansion };
  const none = nothingClose(dense.plain.best, evidence, topic, allowed, ranking.fusion);
  return { rows, scores: rows.map((row) => fused[row]), passages: rows.map((row) => dense.wide.bestPassage[row]), nothingClose: none };
}
