// The model's weights as the page downloads them (indexer/search/page_model.py writes them, and its `unpack` is
// the reference for this file): a header, then each part of the graph's external data file, either as it is or as
// int8 values with one float32 scale per channel. Returns that file's bytes, to hand to ONNX Runtime.
const MAGIC = "LKPW";

export function unpack(packed) {
  const bytes = packed instanceof Uint8Array ? packed : new Uint8Array(packed);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== MAGIC) throw new Error("the model's weights file is not in the expected format");
  const length = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  if (bytes.length !== 8 + length + header.data) throw new Error("the model's weights file is incomplete");
  const base = bytes.byteOffset + 8 + length;
  const out = new Uint8Array(header.size);
  for (const part of header.parts) {
    if (!part.channels) {
      out.set(bytes.subarray(base - bytes.byteOffset + part.from, base - bytes.byteOffset + part.from + part.bytes), part.at);
      continue;
    }
    const { channels, count, inner } = part;
    // copies, so that neither view needs its offset aligned in `bytes`
    const scales = new Float32Array(bytes.buffer.slice(base + part.from, base + part.from + 4 * channels));
    const values = new Int8Array(bytes.buffer, base + part.from + 4 * channels, count);
    const target = new Float32Array(out.buffer, part.at, count); // float32 rounding of the exact product, as numpy's
    if (inner === 1) scaleRows(target, values, scales, count, channels);
    else for (let i = 0; i < count; i++) target[i] = values[i] * scales[Math.floor(i / inner) % channels];
  }
  return out;
}

// target[i] = values[i] * scales[i % channels], row by row (a MatMul weight: one scale per output column)
function scaleRows(target, values, scales, count, channels) {
  for (let row = 0; row < count; row += channels) {
    for (let c = 0; c < channels; c++) target[row + c] = values[row + c] * scales[c];
  }
}
