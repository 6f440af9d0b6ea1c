"""The website's copy of the ONNX export: weight-only int8, so that the page computes the CLI's fp32 graph.

Only the stored weights are rounded: each large weight matrix becomes int8 with one float32 scale per output
channel (symmetric, largest magnitude -> 127), restored by a `DequantizeLinear` node in front of the ordinary
fp32 MatMul or Gemm; each embedding table becomes int8 with one scale per row, and only the rows a question
uses are gathered and multiplied back (Gather, Cast, Mul), never the whole table. Activations stay fp32, unlike
onnxruntime's dynamic quantisation, which rounds them at run time and whose int8 kernels differ between the
browser and native builds.

The word table holds half the weights. One scale per row at full int8 precision made the gzipped model 21 MB
(over the page's budget) for little gain (mean cosine with fp32 on 483 queries 0.99965, against 0.99953 here):
a table gets one common step instead (an eighth of its standard deviation), and only a row that would overflow
int8 at that step gets a coarser step of its own (the position table has one such row, which a single scale for
the whole table would impose on every row).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.files import write_atomic
from ..errors import ModelError

VERSION = 1  # bump when the recipe changes: the cached copy's name carries it
MIN_ELEMENTS = 4096  # smaller tensors (biases, LayerNorm, the two token-type rows) stay fp32: they weigh nothing
QMAX = 127  # symmetric: -127..127, so that -scale and +scale round alike
STEPS_PER_SD = 8  # an embedding table's rounding step, against its standard deviation (see table_scales)


@dataclass(frozen=True)
class QuantiseReport:
    """What was rounded: matrices behind DequantizeLinear, tables gathered row by row, and the sizes in bytes."""

    matrices: int
    tables: int
    bytes_before: int
    bytes_after: int


def weight_only_int8(source: Path, target: Path) -> QuantiseReport:
    """Write the weight-only int8 copy of the ONNX model `source` to `target` (atomically); the same input
    always gives the same bytes."""
    import onnx

    model = onnx.load(str(source))
    if max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0) < 13:
        raise ModelError(f"{source}: ONNX opset 13 or newer is needed for per-channel DequantizeLinear; export it again")
    before = model.ByteSize()
    matrices, tables = _rewrite(model.graph)
    model.metadata_props.add(key="lessons.quantisation", value=f"weight-only int8 v{VERSION}")
    onnx.checker.check_model(model)
    data = model.SerializeToString(deterministic=True)
    write_atomic(target, data)
    return QuantiseReport(matrices, tables, before, len(data))


def channel_scales(weights: Any, axis: int) -> tuple[Any, Any]:
    """int8 values and float32 scales of `weights`, one scale per index along `axis` (largest magnitude -> 127)."""
    import numpy as np

    other = tuple(i for i in range(weights.ndim) if i != axis)
    peak = np.abs(weights).max(axis=other, keepdims=True)
    scales = np.where(peak > 0, peak / QMAX, 1.0).astype(np.float32)
    values = np.clip(np.rint(weights / scales), -QMAX, QMAX).astype(np.int8)
    return values, scales


def table_scales(table: Any) -> tuple[Any, Any]:
    """int8 rows and one float32 scale per row, shaped (rows, 1): a step of 1/STEPS_PER_SD of the table's standard
    deviation, coarser only for a row whose largest magnitude would pass 127 at that step."""
    import numpy as np

    step = np.float32(table.std() / STEPS_PER_SD)
    scales = np.maximum(np.abs(table).max(axis=1, keepdims=True) / QMAX, step).astype(np.float32)
    scales[scales == 0] = 1.0  # an all-zero table
    return np.clip(np.rint(table / scales), -QMAX, QMAX).astype(np.int8), scales


def _rewrite(graph: Any) -> tuple[int, int]:
    """Replace, in place, the large fp32 weights of `graph`'s MatMul, Gemm and Gather nodes; their counts."""
    from onnx import numpy_helper

    uses: dict[str, set[int | str | None]] = {}
    for node in graph.node:
        for slot, name in enumerate(node.input):
            uses.setdefault(name, set()).add(_kind(node, slot))
    graph_inputs = {i.name for i in graph.input}
    initializers, front, tables = [], [], set()
    for tensor in graph.initializer:
        weights = numpy_helper.to_array(tensor)
        kinds = uses.get(tensor.name, {None})
        large = weights.dtype.name == "float32" and weights.ndim == 2 and weights.size >= MIN_ELEMENTS
        if not large or tensor.name in graph_inputs or len(kinds) != 1 or None in kinds:
            initializers.append(tensor)
            continue
        kind = kinds.pop()
        if isinstance(kind, int):
            values, scale = channel_scales(weights, kind)
            scale = scale.reshape(-1)
            front.append(_dequantise(tensor.name, kind))
        else:
            values, scale = table_scales(weights)
            tables.add(tensor.name)
        initializers += [numpy_helper.from_array(values, f"{tensor.name}.int8"), numpy_helper.from_array(scale, f"{tensor.name}.scale")]
    nodes = list(front)
    for node in graph.node:
        nodes += _gather_rows(node) if node.op_type == "Gather" and node.input[0] in tables else [node]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.node[:]
    graph.node.extend(nodes)
    return len(front), len(tables)


def _kind(node: Any, slot: int) -> int | str | None:
    """How `node` uses its input `slot` if that is a weight: the axis of its output channels for a MatMul or Gemm
    weight, "table" for the data of a row Gather, None for anything else (left fp32)."""
    attributes = {a.name: a.i for a in node.attribute}
    if node.op_type == "MatMul" and slot == 1:
        return 1  # (K, N): one scale per output column
    if node.op_type == "Gemm" and slot == 1:
        return 0 if attributes.get("transB") else 1
    if node.op_type == "Gather" and slot == 0 and not attributes.get("axis"):
        return "table"
    return None


def _dequantise(name: str, axis: int) -> Any:
    """The node that gives back the float32 matrix `name` from its int8 values and scales, under its own name,
    so that its consumers are unchanged."""
    from onnx import helper

    return helper.make_node("DequantizeLinear", [f"{name}.int8", f"{name}.scale"], [name], name=f"{name}.dequantise", axis=axis)


def _gather_rows(gather: Any) -> list[Any]:
    """A Gather of an int8 table as Gather (int8 rows), Gather (their scales), Cast, Mul, with the same output."""
    from onnx import TensorProto, helper

    table, indices = gather.input
    (out,) = gather.output
    stem = gather.name or out
    return [
        helper.make_node("Gather", [f"{table}.int8", indices], [f"{stem}.int8"], name=f"{stem}.rows"),
        helper.make_node("Gather", [f"{table}.scale", indices], [f"{stem}.scale"], name=f"{stem}.scales"),
        helper.make_node("Cast", [f"{stem}.int8"], [f"{stem}.float"], name=f"{stem}.cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", [f"{stem}.float", f"{stem}.scale"], [out], name=f"{stem}.dequantise"),
    ]
