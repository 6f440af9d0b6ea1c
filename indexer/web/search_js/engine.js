// The embedding model in the browser: ONNX Runtime's single-threaded WASM build and the model's own tokenizer,
// both served by this site (never a CDN). Loaded only when the visitor first focuses the box or asks.
import * as ort from "./vendor/ort.wasm.min.mjs";
import { Tokenizer } from "./vendor/tokenizers.min.mjs";

const here = new URL("./", import.meta.url);
ort.env.wasm.wasmPaths = new URL("vendor/", here).href; // the site's own copy, under whatever sub-path it is served
ort.env.wasm.numThreads = 1; // GitHub Pages sends no COOP/COEP headers, so threads are unavailable anyway
const CACHE = "lessons-search-model";

// The model's bytes, from the Cache API when this version was fetched before; `progress(done, total)` as they arrive.
async function modelBytes(url, version, progress) {
  const key = `${url}?v=${version}`;
  const cache = globalThis.caches ? await caches.open(CACHE).catch(() => null) : null;
  const cached = cache && (await cache.match(key));
  if (cached) return new Uint8Array(await cached.arrayBuffer());
  const response = await fetch(url);
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
  if (cache) {
    for (const old of await cache.keys()) await cache.delete(old); // keep one model version only
    await cache.put(key, new Response(bytes)).catch(() => {});
  }
  return bytes;
}

// Open the model described by ranking.json's `model`; returns embed(text) -> unit-length Float32Array.
export async function open(model, progress) {
  const [tokenizerJson, bytes] = await Promise.all([
    fetch(new URL("model/tokenizer.json", here)).then((r) => r.json()),
    modelBytes(new URL("model/model.onnx", here).href, model.file_sha256, progress),
  ]);
  const tokenizer = new Tokenizer(tokenizerJson, {});
  // The weights arrive int8 (search/quantise.py); turning them into float32 once, when the session opens, spares
  // every question its 36 DequantizeLinear nodes, for the same fp32 arithmetic (about 70 MB more memory).
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["wasm"],
    extra: { session: { disable_quant_qdq: "1" } },
  });
  // The CLI truncates to max_tokens including [CLS] and [SEP], and keeps the final [SEP] (embedding.py).
  const room = model.max_tokens - model.prefix_ids.length - model.suffix_ids.length;
  return async function embed(text) {
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
}
