// The embedding model in the browser: ONNX Runtime's single-threaded WASM build and the model's own tokenizer,
// both served by this site (never a CDN). Loaded only when the visitor first focuses the box or asks.
import * as ort from "./vendor/ort.wasm.min.mjs";
import { Tokenizer } from "./vendor/tokenizers.min.mjs";
import { unpack } from "./weights.js";

const here = new URL("./", import.meta.url);
ort.env.wasm.wasmPaths = new URL("vendor/", here).href; // the site's own copy, under whatever sub-path it is served
ort.env.wasm.numThreads = 1; // GitHub Pages sends no COOP/COEP headers, so threads are unavailable anyway
const CACHE = `lessons-search-model ${here.pathname}`; // one a site: two sites of one origin keep their own

// A file's bytes, from the Cache API when this version was fetched before, and a function that stores them there
// (called once the model runs: storing 20 MB competes with starting it); `progress(done, total)` as they arrive.
async function cachedBytes(cache, url, version, signal, progress = () => {}) {
  const key = `${url}?v=${version}`; // also what is fetched: a copy of another version in the HTTP cache never answers
  const cached = cache && (await cache.match(key));
  if (cached) return [new Uint8Array(await cached.arrayBuffer()), async () => {}];
  const response = await fetch(key, { signal });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length")) || 0;
  const reader = response.body.getReader();
  const parts = [];
  let done = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    parts.push(chunk.value);
    done += chunk.value.length;
    progress(done, total);
  }
  const bytes = new Uint8Array(done);
  parts.reduce((offset, part) => (bytes.set(part, offset), offset + part.length), 0);
  return [bytes, () => (cache ? cache.put(key, new Response(bytes)).catch(() => {}) : Promise.resolve())];
}

// ONNX Runtime fetches, compiles and starts its WebAssembly on its first session: a one-node graph opens that
// first session as soon as this module loads, while the lesson data and the model's weights download
// (search/page_model.py). Failing here costs nothing but time: the model's own session starts the runtime then.
const started = fetch(new URL("model/warm-up.onnx", here))
  .then((r) => r.arrayBuffer())
  .then((bytes) => ort.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ["wasm"] }))
  .then((session) => session.release())
  .catch(() => {});

// Open the model described by ranking.json's `model`; returns {embed, keep}: embed(text) -> unit-length
// Float32Array, and keep() stores the model in the Cache API (once the page has answered).
export async function open(model, progress) {
  const cache = globalThis.caches ? await caches.open(CACHE).catch(() => null) : null;
  const stop = new AbortController(); // when one file fails, the others stop downloading and reporting progress
  const [tokenizerJson, [graph, keepGraph], [packed, keepWeights]] = await Promise.all([
    fetch(new URL("model/tokenizer.json", here), { signal: stop.signal }).then((r) => r.json()),
    cachedBytes(cache, new URL("model/model.onnx", here).href, model.files_sha256, stop.signal),
    cachedBytes(cache, new URL(`model/${model.weights_name}`, here).href, model.files_sha256, stop.signal,
      (done, total) => stop.signal.aborted || progress(done, total)),
  ]).catch((error) => {
    stop.abort();
    throw error;
  });
  const tokenizer = new Tokenizer(tokenizerJson, {});
  const weights = unpack(packed);
  await started;
  // The graph was optimised when the site was built, and its weights come as the float32 it expects.
  const session = await ort.InferenceSession.create(graph, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "disabled",
    externalData: [{ path: model.weights_name, data: weights }],
  });
  // for the page to call after its first answer: keep this model version, and only this one, for the next visit
  const keep = async () => {
    await Promise.all([keepGraph(), keepWeights()]);
    for (const old of cache ? await cache.keys() : []) if (!old.url.endsWith(`?v=${model.files_sha256}`)) await cache.delete(old);
    await globalThis.caches?.delete("lessons-search-model").catch(() => {}); // the store of earlier builds, one an origin
  };
  // The CLI truncates to max_tokens including [CLS] and [SEP], and keeps the final [SEP] (embedding.py).
  const room = model.max_tokens - model.prefix_ids.length - model.suffix_ids.length;
  const embed = async (text) => {
    const words = model.lower_case ? text.toLowerCase() : text;
    const body = tokenizer.encode(words, { add_special_tokens: false }).ids.slice(0, room);
    const ids = [...model.prefix_ids, ...body, ...model.suffix_ids];
    const shape = [1, ids.length];
    const output = await session.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), shape),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(ids.length).fill(1n), shape),
      token_type_ids: new ort.Tensor("int64", new BigInt64Array(ids.length), shape),
    });
    return output.embedding.data; // the export already mean-pools and normalises
  };
  return { embed, keep };
}
