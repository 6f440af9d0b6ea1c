"""The search page's model in the form a browser opens fastest: a graph optimised ahead of time, weights as int8.

Opening an ONNX Runtime session in the browser was most of the wait for the first answer: onnxruntime-web
optimised the graph there (fusions, folding the int8 weights back to float32), in WebAssembly code that had
not been compiled yet, about 0.5 s on the machines measured (docs/how-search-works.md). Here that work is done
once, in Python, when the site is built:

1. `optimise`: onnxruntime applies its extended graph optimisations to the weight-only int8 model
   (quantise.py), folding its DequantizeLinear nodes, and writes the graph with its initializers in a separate
   file: the float32 weights the browser's session will hold. A fused operator that onnxruntime-web is not
   known to run sends it back to the basic level (`WEB_CONTRIB_OPS`).
2. `pack`: that file as the page downloads it. Each large float32 initializer came from int8 values and one
   scale per output channel, so it is stored that way again where that gives every bit back; anything else is
   stored as it is. `pack` then unpacks the whole file and refuses (ModelError) if a single byte differs.
3. `unpack` restores the file; the page's weights.js does the same (tests keep the two equal) and hands the
   result to onnxruntime-web as the graph's external data, with the graph optimisations turned off.

The page thus computes with the weight-only int8 model's weights, from about as many bytes; only the fused
kernels may round sums differently (within 1e-5 of the int8 model's vectors in tests/slow/test_embed.py).
The packed file starts with `MAGIC`, the length of a JSON header and the header: the unpacked size, the
SHA-256 of the graph it belongs to, the number of bytes after the header (`data`), and the parts. Each part is a
byte range of the unpacked file (`at`), stored `from` bytes after the header, either as its `bytes` bytes or as
`channels` float32 scales then `count` int8 values (value i belongs to channel `(i // inner) % channels`).
"""

from __future__ import annotations

import hashlib
import json
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError

RECIPE = 1  # bump when `optimise` or the packed format changes: the cached copy's folder name carries it
WEIGHTS_NAME = "model.weights"  # the graph's external data location; the page passes the unpacked bytes so named
MAGIC = b"LKPW"
MIN_ELEMENTS = 4096  # smaller float32 initializers (biases, LayerNorm) are stored as they are
MIN_PER_CHANNEL = 64  # a "channel" of fewer values gains nothing from a scale of its own (a table of scales)
_FLOAT, _ALIGN = 1, 4  # onnx.TensorProto.FLOAT; every part starts on a multiple of 4 (Float32Array views)


@dataclass(frozen=True)
class PageModel:
    """The graph (its initializers external, under WEIGHTS_NAME) and its packed weights."""

    graph: bytes
    weights: bytes


# Operators outside the standard ONNX set that the extended optimisations may write and that the pinned
# onnxruntime-web runs (the browser tests open the real model): anything else, say from a newer onnxruntime, and
# the graph is optimised at the basic level instead, which writes standard operators only.
WEB_CONTRIB_OPS = frozenset({"FusedMatMul", "BiasGelu"})


def optimise(int8_model: Path) -> tuple[bytes, bytes]:
    """The optimised graph of `int8_model` and its external initializers file (as onnxruntime writes them)."""
    import onnx
    import onnxruntime as ort

    levels = ort.GraphOptimizationLevel
    graph, weights = _optimised(int8_model, levels.ORT_ENABLE_EXTENDED)
    nodes = onnx.load_from_string(graph).graph.node
    if any(node.domain not in ("", "ai.onnx") and node.op_type not in WEB_CONTRIB_OPS for node in nodes):
        graph, weights = _optimised(int8_model, levels.ORT_ENABLE_BASIC)
    return graph, weights


def _optimised(int8_model: Path, level: Any) -> tuple[bytes, bytes]:
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="lessons-page-model-") as tmp:
        options = ort.SessionOptions()
        # at most extended: level "all" adds layout changes for this machine's CPU, unfit for WebAssembly
        options.graph_optimization_level = level
        options.optimized_model_filepath = str(Path(tmp) / "model.onnx")
        options.add_session_config_entry("session.disable_quant_qdq", "1")  # fold DequantizeLinear into float32
        options.add_session_config_entry("session.optimized_model_external_initializers_file_name", WEIGHTS_NAME)
        options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        try:
            ort.InferenceSession(str(int8_model), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"{int8_model}: onnxruntime could not optimise the page's model ({exc})") from exc
        return (Path(tmp) / "model.onnx").read_bytes(), (Path(tmp) / WEIGHTS_NAME).read_bytes()


def pack(graph: bytes, external: bytes) -> PageModel:
    """The page's files for an optimised `graph` and its `external` initializers file; verified by unpacking."""
    import onnx

    model = onnx.load_from_string(graph)
    header: dict[str, Any] = {"size": len(external), "graph_sha256": hashlib.sha256(graph).hexdigest(), "parts": []}
    sections: list[bytes] = []
    at_file = 0
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {entry.key: entry.value for entry in tensor.external_data}
        if info.get("location") != WEIGHTS_NAME:
            raise ModelError(f"the page's model names an unexpected weights file: {info.get('location')!r}")
        start, length = int(info.get("offset", 0)), int(info["length"])
        raw = external[start : start + length]
        part, section = _part(tensor, start, raw)
        part["from"] = at_file
        header["parts"].append(part)
        sections.append(section + b"\0" * (-len(section) % _ALIGN))
        at_file += len(sections[-1])
    header["data"] = at_file  # bytes after the header: a file cut short is told from a whole one
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(len(MAGIC) + 4 + len(text)) % _ALIGN)  # the parts' `from` counts from the end of the header
    weights = MAGIC + struct.pack("<I", len(text)) + text + b"".join(sections)
    if unpack(weights) != external:
        raise ModelError("the page's packed weights do not give the optimised model's weights back")
    return PageModel(graph, weights)


def _part(tensor: Any, start: int, raw: bytes) -> tuple[dict[str, Any], bytes]:
    """How one initializer is stored: int8 with one scale per channel when that is exact, else as it is."""
    dims = [int(d) for d in tensor.dims]
    count = int(np.prod(dims)) if dims else 1
    if tensor.data_type == _FLOAT and count >= MIN_ELEMENTS and start % _ALIGN == 0 and len(raw) == 4 * count:
        values = np.frombuffer(raw, dtype="<f4").reshape(dims)
        for axis in reversed(range(len(dims))):  # the output channel is the last axis of a MatMul's weight
            if count // dims[axis] < MIN_PER_CHANNEL:
                continue
            found = _exact_int8(values, axis)
            if found is not None:
                q, scales = found
                inner = int(np.prod(dims[axis + 1 :]))
                part = {"at": start, "count": count, "channels": dims[axis], "inner": inner}
                return part, scales.astype("<f4").tobytes() + q.astype(np.int8).tobytes()
    return {"at": start, "bytes": len(raw)}, raw


def _exact_int8(values: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray] | None:
    """int8 values and float32 scales along `axis` whose products are `values` bit for bit, or None."""
    other = tuple(i for i in range(values.ndim) if i != axis)
    peak = np.abs(values).max(axis=other, keepdims=True)
    guess = (peak / np.float32(127)).astype(np.float32)
    for scales in (guess, np.nextafter(guess, np.float32(np.inf)), np.nextafter(guess, np.float32(0))):
        scales = np.where(peak > 0, scales, np.float32(1)).astype(np.float32)
        q = np.clip(np.rint(values / scales), -127, 127).astype(np.int8)
        if np.array_equal((q.astype(np.float32) * scales).view(np.uint32), values.view(np.uint32)):
            return q, scales.reshape(-1)
    return None


def unpack(weights: bytes) -> bytes:
    """The external initializers file that `weights` (pack's) stands for; weights.js is its copy for the page."""
    if weights[: len(MAGIC)] != MAGIC or len(weights) < len(MAGIC) + 4:
        raise ModelError("the page's weights file does not start as pack writes it")
    (length,) = struct.unpack_from("<I", weights, len(MAGIC))
    header = json.loads(weights[len(MAGIC) + 4 : len(MAGIC) + 4 + length])
    out, base = bytearray(header["size"]), len(MAGIC) + 4 + length
    for part in header["parts"]:
        at, source = part["at"], base + part["from"]
        if "channels" in part:
            channels, count = part["channels"], part["count"]
            scales = np.frombuffer(weights, dtype="<f4", count=channels, offset=source)
            q = np.frombuffer(weights, dtype=np.int8, count=count, offset=source + 4 * channels)
            shaped = q.reshape(-1, channels, part["inner"]).astype(np.float32) * scales.reshape(1, channels, 1)
            out[at : at + 4 * count] = shaped.astype("<f4").tobytes()
        else:
            out[at : at + part["bytes"]] = weights[source : source + part["bytes"]]
    return bytes(out)


def warm_up() -> bytes:
    """A graph of one Identity node. The page opens it while the weights download: onnxruntime-web fetches,
    compiles and starts its WebAssembly on the first session, which would otherwise wait for the weights."""
    import onnx
    from onnx import TensorProto, helper

    value = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "warm-up", [value], [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString(deterministic=True))


def graph_of(weights: bytes) -> str:
    """The SHA-256 of the graph that packed `weights` belong to; "" when they are not pack's, or cut short."""
    try:
        (length,) = struct.unpack_from("<I", weights, len(MAGIC))
        header = json.loads(weights[len(MAGIC) + 4 : len(MAGIC) + 4 + length])
        whole = weights[: len(MAGIC)] == MAGIC and len(weights) == len(MAGIC) + 4 + length + int(header["data"])
        return str(header["graph_sha256"]) if whole else ""
    except (struct.error, ValueError, KeyError, TypeError):
        return ""
