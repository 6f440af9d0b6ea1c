// The "Has anyone tried this?" page. Keyword answers come at once from a small index; the model loads on the
// first focus or question and then answers by meaning. For outside scripts and tests: `?q=` runs a query,
// results carry data-lesson-id in rank order, and <html data-search-state> is "keyword", "semantic" or
// "nothing-close" ("idle" before any question, "error" when the lesson data cannot load).
import { FORMAT, addShard, allowedMask, denseText, expand, firstStage, keywordIndex, keywordRows, roughScores, secondStage, shardsOf, tokenize, vectorIndex } from "./rank.js";
import { card, filterMenus, snippet } from "./cards.js";

const SHOWN = 10;
const here = new URL("./", import.meta.url);
const siteRoot = new URL("../../", here);
const FACETS = [ // URL parameter (the CLI's option name) -> lesson field
  { param: "sector", field: "sector", labels: "sector", name: "Sector", any: "Any sector" },
  { param: "technology", field: "technologies", labels: "technology", name: "Technology", any: "Any technology" },
  { param: "outcome", field: "outcome", labels: "outcome", name: "Outcome", any: "Any outcome" },
  { param: "size", field: "company_size", labels: "company_size", name: "Company size", any: "Any size" }, // name: the page's data-size-name
  { param: "country", field: "country", labels: "", name: "Country", any: "Any country" },
  { param: "language", field: "language", labels: "", name: "Language", any: "Any language" },
  { param: "since", field: "date", labels: "", name: "From year", any: "Any year" },
];

const html = document.documentElement;
const form = document.querySelector("form.lesson-search");
const box = form.querySelector("input[name=q]");
const filtersBox = form.querySelector(".lesson-search__filters");
const status = document.querySelector(".lesson-search__status");
const list = document.querySelector("ol.lesson-results");
const nothing = document.querySelector(".lesson-nothing");
FACETS.find((f) => f.param === "size").name = form.dataset.sizeName || "Company size"; // the knowledge base's wording
let data = null; // Promise of {ranking, lessons, keyword}
let model = null; // Promise of {embed, vectors}
let ready = null; // the model, once loaded
let latest = 0; // only the newest question may draw results

const get = (name) => fetch(new URL(`data/${name}`, here)).then((r) => {
  if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
  return r;
});
const getJson = (name) => get(name).then((r) => r.json());
const getBytes = (name) => get(name).then((r) => r.arrayBuffer());

let rankingFile = null; // Promise of ranking.json, which both the data and the model need

function loadData() {
  rankingFile ??= getJson("ranking.json");
  data ??= Promise.all([rankingFile, getJson("lessons.json"), getJson("keyword.json"), getBytes("keyword.bin")])
    .then(([ranking, lessons, terms, postings]) => {
      if (ranking.format !== FORMAT) throw new Error("the search data and this page come from different builds; reload the page");
      filterMenus(filtersBox, FACETS, lessons.lessons, lessons.labels, chosenFilters(new URLSearchParams(location.search)));
      return { ranking, lessons, keyword: keywordIndex(terms, new Uint8Array(postings)), texts: new Map(), fetching: new Map() };
    });
  return data;
}

// Ask for the runtime's files at once, in parallel, rather than each when the one before it asks for it
// (engine.js -> ONNX Runtime -> its WASM loader -> the WASM): the browser hands them over when they are used.
function preload() {
  const links = [
    ["modulepreload", "vendor/ort.wasm.min.mjs"], ["modulepreload", "vendor/tokenizers.min.mjs"], ["modulepreload", "weights.js"],
    ["modulepreload", "vendor/ort-wasm-simd-threaded.mjs"], ["preload", "vendor/ort-wasm-simd-threaded.wasm"], ["preload", "model/warm-up.onnx"],
  ];
  for (const [rel, path] of links) {
    const link = Object.assign(document.createElement("link"), { rel, href: new URL(path, here).href });
    if (rel === "preload") Object.assign(link, { as: "fetch", crossOrigin: "anonymous" }); // as ONNX Runtime's fetch asks
    document.head.append(link);
  }
}

// The model and the sign vectors; the runtime starts as soon as engine.js is imported, beside the lesson data.
function loadModel() {
  model ??= (async () => {
    preload();
    const engine = import("./engine.js");
    const d = loadData();
    const { open } = await engine;
    const [{ embed, keep }, signs, { lessons }] = await Promise.all([
      open((await rankingFile).model, (done, total) => note(`Loading the search model: ${Math.round(done / 1e6)} of ${Math.round(total / 1e6) || "?"} MB (once; your browser keeps it).`)),
      getBytes("signs.bin"),
      d,
    ]);
    ready = { embed, keep, vectors: vectorIndex(signs, lessons.passage_counts, (await rankingFile).model.dimension, lessons.shards) };
    return ready;
  })();
  return model;
}

// `make()`'s promise, kept under `key` in `map` so that it runs once, unless it fails: then the next question tries again.
function once(map, key, make) {
  if (!map.has(key)) map.set(key, make().catch((error) => (map.delete(key), Promise.reject(error))));
  return map.get(key);
}

// The int8 vectors of the shards holding `rows`, each fetched once.
function loadShards(d, rows) {
  return Promise.all(shardsOf(rows, ready.vectors).filter((k) => !ready.vectors.shards.has(k))
    .map((k) => once(d.fetching, k, () => getBytes(`vectors-${k}.bin`).then((buffer) => addShard(ready.vectors, k, buffer)))));
}

function chosenFilters(params) {
  return Object.fromEntries(FACETS.map((f) => [f.param, params.getAll(f.param).filter(Boolean)]));
}

function filtersOf(chosen) {
  const facets = Object.fromEntries(FACETS.filter((f) => f.param !== "since").map((f) => [f.field, chosen[f.param]]));
  return { facets, since: chosen.since[0] || "" };
}

function note(text) {
  status.textContent = text;
}

function setState(state, query = "") {
  html.dataset.searchQuery = query; // which question the shown state answers
  html.dataset.searchState = state;
}

// Read the form into the URL (so a result list can be shared), then answer.
function submit(push) {
  const params = new URLSearchParams(new FormData(form));
  for (const [key, value] of [...params]) if (!value) params.delete(key);
  const url = `${location.pathname}${params.size ? `?${params}` : ""}`;
  if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
  answer(params);
}

async function answer(params) {
  const run = ++latest;
  const query = (params.get("q") || "").trim();
  if (!query) {
    list.replaceChildren();
    nothing.hidden = true;
    note("");
    return setState("idle");
  }
  let d;
  try {
    d = await loadData();
  } catch (error) {
    note(`The lesson data of this site could not be loaded (${error.message}). You can still browse the lessons.`);
    return setState("error");
  }
  if (run !== latest) return;
  const allowed = allowedMask(d.lessons.lessons, filtersOf(chosenFilters(params)));
  if (!ready) {
    show(d, keywordRows(firstStage(query, d, allowed, null, SHOWN)), null, query);
    setState("keyword", query);
    note("Showing lessons that use your words while the search by meaning loads…");
    loadModel().then(() => run === latest && answer(params), (error) => {
      if (run === latest) note(`The search by meaning could not start (${error.message}); these lessons use your words.`);
    });
    return;
  }
  // as page.answer: the question as typed, and with the English names of the technologies it names
  const wideText = denseText(query, expand(query, d.ranking.expansion, d.ranking.bm25));
  const plain = await ready.embed(query);
  const wide = wideText === query ? plain : await ready.embed(wideText);
  if (run !== latest) return;
  const stage = firstStage(query, d, allowed, roughScores(wide, ready.vectors), SHOWN);
  // the texts of the first stage's leaders, beside their vectors: the lessons shown are mostly among them
  for (const k of shardsOf(stage.candidates.slice(0, SHOWN), ready.vectors)) textShard(d, k).catch(() => {});
  let result, passages;
  try { // the candidates' vectors, then the texts of the lessons shown
    await loadShards(d, stage.candidates);
    if (run !== latest) return;
    result = secondStage(stage, d, allowed, SHOWN, plain, wide, ready.vectors);
    passages = await passageTexts(d, result.rows, result.passages);
  } catch (error) {
    if (run !== latest) return;
    note(`The lesson data of this site could not be loaded (${error.message}).`);
    return setState("error", query);
  }
  if (run !== latest) return;
  show(d, result.rows, passages, query);
  if (ready.keep) setTimeout(ready.keep, 0); // the first answer is shown: now store the model for the next visit
  ready.keep = null;
  // as `lessons search`: when no lesson is close, say so, and still list the nearest ones under that heading
  nothing.hidden = !result.nothingClose;
  note(result.rows.length ? "" : "No lesson matches these filters.");
  setState(result.nothingClose ? "nothing-close" : "semantic", query);
}

// The passage texts of shard k, each file fetched once.
function textShard(d, k) {
  return once(d.texts, k, () => getJson(`passages-${k}.json`));
}

// The texts of the shown lessons' best passages, fetching only the files of their shards (as the int8 vectors).
async function passageTexts(d, rows, numbers) {
  const { shardOf, local, starts } = ready.vectors;
  return Promise.all(rows.map(async (row, i) => (await textShard(d, shardOf[row]))[local[row] + numbers[i] - starts[row]][1]));
}

function show(d, rows, passages, query) {
  const words = tokenize(query, d.ranking.bm25);
  const lessons = d.lessons.lessons;
  nothing.hidden = true;
  list.replaceChildren(...rows.map((row, i) => card(lessons[row], d.lessons.labels, siteRoot, passages && snippet(passages[i], words))));
}

const params = new URLSearchParams(location.search);
box.value = params.get("q") || "";
form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit(true);
});
box.addEventListener("input", () => submit(false));
filtersBox.addEventListener("change", () => submit(true));
box.addEventListener("focus", () => loadModel().catch(() => {}), { once: true });
window.addEventListener("popstate", () => {
  const now = new URLSearchParams(location.search);
  box.value = now.get("q") || "";
  for (const select of filtersBox.querySelectorAll("select")) select.value = now.get(select.name) || "";
  answer(now);
});
if (box.value) {
  loadModel().catch(() => {}); // first: the runtime's start is the longest wait, and needs none of the lesson data
  answer(params);
} else {
  setState("idle"); // nothing more is fetched until the box is focused: the page stays light for a visitor just passing
}
