// Ranking lessons for a question as `lessons search` does: indexer/search/fusion.py holds the formula (its
// docstring is the whole rule) and rank.py applies it; meaning is scored in two stages as indexer/search/page.py
// does (signs of every passage, then int8 vectors of the first stage's candidates). Every number and word list
// comes from ranking.json, written by indexer/search/export.py, so Python is the one definition; tests keep the
// two equal (tests/quick/test_search_export.py runs this file with Node, tests/slow/test_search_page.py in Chromium).

export const FORMAT = 4; // export.FORMAT, of the data files this code reads (a test keeps the two equal)

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

// The keyword index from keyword.json (terms, statistics) and keyword.bin (per term: its lessons' number gaps,
// then its term frequencies, as LEB128 varints), decoded once into typed arrays.
export function keywordIndex(stats, bytes) {
  const total = stats.counts.reduce((a, b) => a + b, 0);
  const docs = new Int32Array(total), tfs = new Float64Array(total), start = new Int32Array(stats.terms.length + 1);
  let at = 0, k = 0;
  const next = () => {
    let value = 0, shift = 0, byte;
    do {
      byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  stats.counts.forEach((count, term) => {
    start[term] = k;
    for (let i = 0, doc = 0; i < count; i++) docs[k + i] = doc += next();
    for (let i = 0; i < count; i++) tfs[k + i] = next();
    k += count;
  });
  start[stats.terms.length] = k;
  return { ...stats, lengths: Float64Array.from(stats.lengths), termIndex: new Map(stats.terms.map((t, i) => [t, i])), docs, tfs, start };
}

// KeywordIndex.matches: each term's document frequency, IDF and postings range.
function matches(terms, keyword) {
  const n = keyword.lessons;
  return terms.map((term) => {
    const i = keyword.termIndex.get(term);
    const df = i === undefined ? 0 : keyword.df[i];
    const [lo, hi] = i === undefined ? [0, 0] : [keyword.start[i], keyword.start[i + 1]];
    return { df, idf: Math.log(1 + (n - df + 0.5) / (df + 0.5)), lo, hi };
  });
}

// Add weight x each matched lesson's BM25 contribution of the term into `out`.
function addScores(out, m, keyword, fusion, weight) {
  const { docs, tfs, lengths } = keyword;
  const k1 = fusion.bm25_k1, b = fusion.bm25_b, average = keyword.average_length || 1;
  for (let j = m.lo; j < m.hi; j++) {
    const norm = k1 * (1 - b + (b * lengths[docs[j]]) / average);
    out[docs[j]] += weight * ((m.idf * tfs[j]) / (tfs[j] + norm));
  }
}

// fusion.keyword_evidence: BM25 with the taxonomy's extra terms, coverage by the question's own terms, rare share.
export function keywordEvidence(query, expansion, keyword, ranking) {
  const { fusion } = ranking;
  const size = keyword.lengths.length;
  const [plain, rare, bm25] = [new Float64Array(size), new Float64Array(size), new Float64Array(size)];
  const limit = Math.max(1, Math.floor(fusion.rare_share * keyword.lessons));
  const own = matches(questionTerms(query, ranking.bm25), keyword);
  for (const m of own) {
    addScores(plain, m, keyword, fusion, 1);
    if (m.df >= 1 && m.df <= limit) for (let j = m.lo; j < m.hi; j++) rare[keyword.docs[j]] += m.idf;
  }
  bm25.set(plain);
  for (const m of matches(expansion.terms, keyword)) addScores(bm25, m, keyword, fusion, fusion.expansion_weight);
  const mass = own.reduce((sum, m) => sum + (m.df > 0 ? m.idf : 0), 0);
  const asked = own.reduce((sum, m) => sum + m.idf, 0); // a word no lesson contains counts too (df 0)
  if (mass <= 0) return { bm25, coverage: new Float64Array(size), rare: new Float64Array(size) };
  return { bm25, coverage: plain.map((x) => Math.min(1, x / asked)), rare: rare.map((x) => x / mass) };
}

// The passage vectors of signs.bin ([scales as float32][one bit a dimension, first dimension in the high bit]),
// where each lesson's passages start, and which int8 shard holds each lesson (lessons.json's `shards`: shard N
// holds the passages of its lessons in lesson order); the shards are added as the page fetches them.
export function vectorIndex(buffer, counts, dimension, shardOf) {
  const n = counts.reduce((a, b) => a + b, 0);
  const starts = new Int32Array(counts.length + 1), local = new Int32Array(counts.length), filled = new Map();
  counts.forEach((count, i) => {
    starts[i + 1] = starts[i] + count;
    local[i] = filled.get(shardOf[i]) || 0; // the lesson's first passage within its shard's file
    filled.set(shardOf[i], local[i] + count);
  });
  return { scales: new Float32Array(buffer, 0, n), bits: new Uint8Array(buffer, 4 * n, (n * dimension) / 8), starts, dimension,
    shardOf, local, sizes: filled, shards: new Map() };
}

// page.PageVectors.rough: per lesson, its best passage's sign estimate scale * (sign . query), by a table of the
// query's sums over each byte's set bits.
export function roughScores(query, vectors) {
  const { scales, bits, starts, dimension } = vectors;
  const bytes = dimension / 8, table = new Float64Array(bytes * 256);
  let total = 0;
  for (let d = 0; d < dimension; d++) total += query[d];
  for (let j = 0; j < bytes; j++) {
    for (let b = 1; b < 256; b++) {
      const low = 31 - Math.clz32(b & -b); // the lowest set bit is dimension 8j + 7 - low
      table[j * 256 + b] = table[j * 256 + (b & (b - 1))] + query[8 * j + 7 - low];
    }
  }
  const lessons = starts.length - 1, best = new Float64Array(lessons);
  for (let lesson = 0; lesson < lessons; lesson++) {
    let top = -Infinity;
    for (let p = starts[lesson]; p < starts[lesson + 1]; p++) {
      let sum = 0;
      for (let j = 0, o = p * bytes; j < bytes; j++) sum += table[j * 256 + bits[o + j]];
      const cosine = scales[p] * (2 * sum - total);
      if (cosine > top) top = cosine;
    }
    best[lesson] = top === -Infinity ? 0 : top;
  }
  return best;
}

// The int8 shards ([scales as float32][int8 values]) the lessons `rows` are in, by number.
export function shardsOf(rows, vectors) {
  return [...new Set(rows.map((row) => vectors.shardOf[row]))];
}

export function addShard(vectors, shard, buffer) {
  const n = vectors.sizes.get(shard) || 0;
  vectors.shards.set(shard, { scales: new Float32Array(buffer, 0, n), values: new Int8Array(buffer, 4 * n, n * vectors.dimension) });
}

// page.PageVectors.exact: for some lessons, the best passage's int8 cosine and its number (the first on ties).
export function exactScores(query, vectors, rows) {
  const { starts, local, shardOf, dimension } = vectors;
  const best = new Float64Array(rows.length), passage = new Int32Array(rows.length);
  rows.forEach((lesson, i) => {
    const { scales, values } = vectors.shards.get(shardOf[lesson]);
    let top = -Infinity;
    for (let p = starts[lesson], q = local[lesson]; p < starts[lesson + 1]; p++, q++) {
      let dot = 0;
      for (let d = 0, o = q * dimension; d < dimension; d++) dot += query[d] * values[o + d];
      const cosine = scales[q] * dot;
      if (cosine > top) [top, passage[i]] = [cosine, p];
    }
    best[i] = top === -Infinity ? 0 : top;
  });
  return { best, passage };
}

// fusion.centre_languages: each language's lessons compared on their own level (all exported lessons are published).
export function centreLanguages(dense, lessons, fusion) {
  if (!dense.length || !fusion.language_centering) return Float64Array.from(dense);
  const sums = new Map();
  let all = 0;
  lessons.forEach((lesson, i) => {
    const [sum, count] = sums.get(lesson.language) || [0, 0];
    sums.set(lesson.language, [sum + dense[i], count + 1]);
    all += dense[i];
  });
  const overall = all / lessons.length;
  return Float64Array.from(dense, (d, i) => {
    const [sum, count] = sums.get(lessons[i].language);
    return d - fusion.language_centering * (sum / count - overall);
  });
}

// rank.topic_lessons: 1 for lessons with a technology the question names.
export function topicLessons(lessons, expansion) {
  const named = new Set(expansion.named.filter((e) => e.section === "technologies").map((e) => e.slug));
  return Float64Array.from(lessons, (lesson) => (named.size && (lesson.technologies || []).some((t) => named.has(t)) ? 1 : 0));
}

// Which lessons pass the filters: within a facet any value matches, across facets all must (rank.allowed_lessons).
export function allowedMask(lessons, filters) {
  const wanted = Object.entries(filters.facets).filter(([, values]) => values.length)
    .map(([field, values]) => [field, new Set(field === "country" ? values.map((c) => c.toUpperCase()) : values)]);
  return Uint8Array.from(lessons, (lesson) => {
    for (const [field, values] of wanted) {
      const have = Array.isArray(lesson[field]) ? lesson[field] : [lesson[field]];
      if (!have.some((v) => values.has(v))) return 0;
    }
    return !filters.since || lesson.date >= filters.since ? 1 : 0;
  });
}

// fusion.fuse: meaning (language-centred), BM25 scaled by the best allowed lesson's, rare words, named topic.
export function fuse(centred, evidence, topic, allowed, denseWeight, fusion) {
  let top = 0;
  allowed.forEach((ok, i) => { if (ok && evidence.bm25[i] > top) top = evidence.bm25[i]; });
  return Float64Array.from(centred, (d, i) => (allowed[i]
    ? denseWeight * d + (1 - denseWeight) * (top > 0 ? evidence.bm25[i] / top : 0) + fusion.rare_weight * evidence.rare[i] + fusion.topic_bonus * topic[i]
    : -Infinity));
}

// The k best allowed lessons, highest score first, ties in index order (numpy's stable argsort), without sorting all.
export function topLessons(scores, allowed, k) {
  const rows = [];
  for (let i = 0; i < scores.length; i++) {
    if (!allowed[i] || (rows.length === k && !(scores[i] > scores[rows[k - 1]]))) continue;
    if (rows.length === k) rows.pop();
    let at = rows.length;
    while (at > 0 && scores[i] > scores[rows[at - 1]]) at--;
    rows.splice(at, 0, i);
  }
  return rows;
}

// The question's keyword side and the first stage of meaning (`roughWide`: roughScores of the expanded question,
// or null while the model loads): its expansion, evidence, topic lessons, scores and the lessons to re-rank.
export function firstStage(query, data, allowed, roughWide, k) {
  const { ranking, lessons, keyword } = data;
  const expansion = expand(query, ranking.expansion, ranking.bm25);
  const evidence = keywordEvidence(query, expansion, keyword, ranking);
  const topic = topicLessons(lessons.lessons, expansion);
  const centred = roughWide ? centreLanguages(roughWide, lessons.lessons, ranking.fusion) : new Float64Array(topic.length);
  const fused = fuse(centred, evidence, topic, allowed, ranking.dense_weight, ranking.fusion);
  const candidates = topLessons(fused, allowed, roughWide ? ranking.page.candidates : k);
  return { query, expansion, evidence, topic, centred, roughWide, candidates };
}

// Keyword answers while the model loads: lessons with one of the question's words or its named topic.
export function keywordRows(stage) {
  return stage.candidates.filter((row) => stage.evidence.bm25[row] > 0 || stage.topic[row] > 0);
}

// fusion.closeness and fusion.nothing_close: the best plain meaning among the candidates, coverage and topic
// over the allowed lessons.
function nothingClose(plainBest, evidence, topic, allowed, fusion) {
  let coverage = 0, named = false, any = false;
  allowed.forEach((ok, i) => {
    if (!ok) return;
    coverage = any ? Math.max(coverage, evidence.coverage[i]) : evidence.coverage[i];
    named ||= topic[i] > 0;
    any = true;
  });
  const dense = plainBest.length ? Math.max(...plainBest) : 0;
  return dense + (any ? coverage : 0) + (named ? fusion.topic_weight : 0) < fusion.close_threshold;
}

// The second stage, as page.answer: the candidates' int8 cosines (their shards loaded) replace the rough ones,
// language centring is done again, and the k best candidates come out, ties in first-stage order.
export function secondStage(stage, data, allowed, k, plain, wide, vectors) {
  const { ranking } = data;
  const { candidates, roughWide, evidence, topic } = stage;
  const exact = exactScores(wide, vectors, candidates);
  const best = Float64Array.from(roughWide); // each lesson's best estimate: exact for the candidates
  candidates.forEach((row, i) => (best[row] = exact.best[i]));
  const centred = centreLanguages(best, data.lessons.lessons, ranking.fusion);
  const fused = fuse(centred, evidence, topic, allowed, ranking.dense_weight, ranking.fusion);
  const order = candidates.map((_, i) => i).sort((a, b) => fused[candidates[b]] - fused[candidates[a]] || a - b).slice(0, k);
  const same = denseText(stage.query, stage.expansion) === stage.query; // as the CLI: one embedding then
  const plainBest = same ? exact.best : exactScores(plain, vectors, candidates).best;
  return {
    rows: order.map((i) => candidates[i]),
    scores: order.map((i) => fused[candidates[i]]),
    passages: order.map((i) => exact.passage[i]),
    nothingClose: nothingClose(plainBest, evidence, topic, allowed, ranking.fusion),
  };
}
