"""The website's weight-only int8 model (search/quantise.py) on a tiny graph: int8 weights, fp32 activations,
one scale per output channel or per table row, the same outputs as fp32 up to the weights' rounding, and the
same bytes every time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.search import quantise

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def tiny_model(path: Path) -> None:
    """ids -> Gather(table) -> MatMul(W) -> Reshape -> Gemm(V, transB) -> y, with a bias too small to round."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(9)
    weights = {
        "table": rng.normal(0, 0.05, (100, 64)).astype(np.float32),
        "w": rng.normal(0, 0.1, (64, 80)).astype(np.float32),
        "v": rng.normal(0, 0.1, (64, 80)).astype(np.float32),  # (N, K): Gemm transposes it
        "bias": rng.normal(0, 0.1, (64,)).astype(np.float32),
        "shape": np.array([-1, 80], dtype=np.int64),
    }
    weights["table"][7] *= 40  # one outlying row, as in the position table
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["rows"], name="lookup"),
        helper.make_node("MatMul", ["rows", "w"], ["hidden"]),
        helper.make_node("Reshape", ["hidden", "shape"], ["flat"]),
        helper.make_node("Gemm", ["flat", "v", "bias"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, "n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 64])],
        [numpy_helper.from_array(array, name) for name, array in weights.items()],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))


def _run(path: Path, ids: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # the graph as written
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]).run(None, {"ids": ids})[0]


def test_weights_are_int8_and_activations_fp32(tmp_path: Path) -> None:
    tiny_model(tmp_path / "fp32.onnx")
    report = quantise.weight_only_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    assert (report.matrices, report.tables) == (2, 1) and report.bytes_after < report.bytes_before / 3
    model = onnx.load(str(tmp_path / "int8.onnx"))
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("DequantizeLinear") == 2 and "DynamicQuantizeLinear" not in ops and "MatMulInteger" not in ops
    axes = {node.output[0]: node.attribute[0].i for node in model.graph.node if node.op_type == "DequantizeLinear"}
    assert axes == {"w": 1, "v": 0}  # one scale per output channel: MatMul's columns, a transposed Gemm's rows
    types = {t.name: (t.data_type, list(t.dims)) for t in model.graph.initializer}
    assert types["table.int8"] == (onnx.TensorProto.INT8, [100, 64]) and types["table.scale"] == (onnx.TensorProto.FLOAT, [100, 1])
    assert types["w.scale"][1] == [80] and types["v.scale"][1] == [64] and types["bias"][0] == onnx.TensorProto.FLOAT
    assert not any(name in types for name in ("table", "w", "v"))


def test_outputs_differ_from_fp32_only_by_the_weights_rounding(tmp_path: Path) -> None:
    tiny_model(tmp_path / "fp32.onnx")
    quantise.weight_only_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    ids = np.array([[3, 7, 99, 0, 42]], dtype=np.int64)
    exact, rounded = _run(tmp_path / "fp32.onnx", ids), _run(tmp_path / "int8.onnx", ids)
    assert exact.shape == rounded.shape
    cosine = (exact * rounded).sum(1) / np.linalg.norm(exact, axis=1) / np.linalg.norm(rounded, axis=1)
    assert cosine.min() > 0.995  # eight steps per standard deviation in the table, 127 per channel in the matrices
    # the same fp32 arithmetic, on the rounded weights
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(str(tmp_path / "int8.onnx")).graph.initializer}
    table = weights["table.int8"] * weights["table.scale"]  # one scale per row
    w = weights["w.int8"] * weights["w.scale"][None, :]  # per column
    v = weights["v.int8"] * weights["v.scale"][:, None]  # per row of the transposed matrix
    by_hand = (table[ids[0]] @ w) @ v.T + weights["bias"]
    assert np.allclose(rounded, by_hand, atol=1e-5)


def test_table_rows_share_one_step_unless_they_would_overflow() -> None:
    table = np.random.default_rng(1).normal(0, 0.05, (50, 32)).astype(np.float32)
    table[3] *= 40
    values, scales = quantise.table_scales(table)
    assert values.dtype == np.int8 and scales.shape == (50, 1)
    assert len(set(np.delete(scales[:, 0], 3).tolist())) == 1 and scales[3, 0] > scales[0, 0]  # the outlier alone is coarser
    assert np.abs(values.astype(np.float32) * scales - table).max() <= scales.max() / 2 + 1e-7


def test_same_bytes_every_time(tmp_path: Path) -> None:
    tiny_model(tmp_path / "fp32.onnx")
    quantise.weight_only_int8(tmp_path / "fp32.onnx", tmp_path / "a.onnx")
    quantise.weight_only_int8(tmp_path / "fp32.onnx", tmp_path / "b.onnx")
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind
