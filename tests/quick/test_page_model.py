"""The page's model (search/page_model.py) on tiny graphs: the optimised graph with its packed weights computes
what the weight-only int8 model computes, the packing gives every byte back, the page's weights.js unpacks as
Python does, and a cached copy that does not hang together is made again."""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from indexer.errors import ModelError
from indexer.search import export, page_model
from tests.helpers import REPO
from tests.quick.test_quantise import tiny_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

WEIGHTS_JS = REPO / "indexer" / "web" / "search_js" / "weights.js"


def _header(weights: bytes) -> dict:
    (length,) = struct.unpack_from("<I", weights, 4)
    return json.loads(weights[8 : 8 + length])


def _run(graph: bytes, weights: bytes, folder: Path, ids: np.ndarray) -> np.ndarray:
    """The page's model as the browser opens it: the graph, its unpacked weights beside it, no optimisation."""
    folder.mkdir()
    (folder / "model.onnx").write_bytes(graph)
    (folder / page_model.WEIGHTS_NAME).write_bytes(page_model.unpack(weights))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"ids": ids})[0]


def test_the_page_model_computes_the_int8_model(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    tiny_model(folder / "model.onnx")
    made = export.ensure_page_model(folder)
    parts = _header(made.weights)["parts"]
    assert sum("channels" in part for part in parts) == 2  # both matrices travel as int8 with per-channel scales
    assert len(made.weights) < len(page_model.unpack(made.weights)) / 2
    ids = np.array([[3, 7, 99, 0]], dtype=np.int64)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    expected = ort.InferenceSession(str(export.ensure_int8(folder)), options, providers=["CPUExecutionProvider"]).run(None, {"ids": ids})[0]
    got = _run(made.graph, made.weights, tmp_path / "page", ids)
    assert got.shape == expected.shape and np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()
    assert export.ensure_page_model(folder) == made  # kept, and the same bytes when read back


def test_a_cached_copy_that_does_not_hang_together_is_made_again(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    tiny_model(folder / "model.onnx")
    made = export.ensure_page_model(folder)
    (cached,) = folder.glob("page-model-*")
    (cached / page_model.WEIGHTS_NAME).write_bytes(made.weights[:1000])  # cut short, as by a crash
    assert export.ensure_page_model(folder) == made
    (cached / "model.onnx").write_bytes(made.graph + b"\0")  # a graph from another build
    assert export.ensure_page_model(folder) == made
    assert (cached / "model.onnx").read_bytes() == made.graph
    assert page_model.graph_of(b"LKPW\xff\xff\xff\xff{") == "" and page_model.graph_of(b"") == ""


def _fusable_model(path: Path) -> None:
    """ids -> Gather(table) -> MatMul(W) = h, then h times its own transpose: extended optimisation fuses that
    Transpose into a com.microsoft FusedMatMul."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    weights = {"table": rng.normal(0, 0.05, (100, 64)).astype(np.float32), "w": rng.normal(0, 0.1, (64, 80)).astype(np.float32)}
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["rows"]),
        helper.make_node("MatMul", ["rows", "w"], ["h"]),
        helper.make_node("Transpose", ["h"], ["ht"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["h", "ht"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fusable",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, "n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "n", "n"])],
        [numpy_helper.from_array(array, name) for name, array in weights.items()],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))


def test_an_operator_the_browser_may_lack_sends_the_graph_to_basic_optimisation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fusable_model(tmp_path / "model.onnx")
    int8 = export.ensure_int8(tmp_path)
    ops = lambda graph: {(node.domain, node.op_type) for node in onnx.load_from_string(graph).graph.node}  # noqa: E731
    assert ("com.microsoft", "FusedMatMul") in ops(page_model.optimise(int8)[0])  # known to run in onnxruntime-web
    monkeypatch.setattr(page_model, "WEB_CONTRIB_OPS", frozenset())  # as if a newer onnxruntime wrote an unknown one
    graph, weights = page_model.optimise(int8)
    assert {domain for domain, _ in ops(graph)} == {""}
    ids = np.array([[3, 7, 99]], dtype=np.int64)
    page = page_model.pack(graph, weights)
    assert _run(page.graph, page.weights, tmp_path / "page", ids).shape == (1, 3, 3)


def test_a_model_cache_that_cannot_be_written_still_gives_the_model(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    tiny_model(folder / "model.onnx")
    (folder / "page-model-v0.0-ort0.0").mkdir()  # an older recipe's copy: removed once the new one is kept
    made = export.ensure_page_model(folder)
    (cached,) = folder.glob("page-model-*")
    assert cached.name != "page-model-v0.0-ort0.0"
    shutil.rmtree(cached)
    cached.write_text("a file where the folder goes: mkdir fails as on a full or read-only disk")
    assert export.ensure_page_model(folder) == made


def _external_model(folder: Path) -> tuple[bytes, bytes, dict[str, np.ndarray]]:
    """A graph whose initializers sit in one external file: int8-exact along the last axis, along a middle axis,
    not exact at all, an int8 table and a small bias (the table last: its size is not a multiple of 4)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(4)
    last_scales = rng.uniform(0.001, 0.01, (1, 80)).astype(np.float32)
    middle_scales = rng.uniform(0.001, 0.01, (1, 40, 1)).astype(np.float32)
    arrays = {
        "last": rng.integers(-127, 128, (64, 80)).astype(np.float32) * last_scales,
        "middle": rng.integers(-127, 128, (3, 40, 50)).astype(np.float32) * middle_scales,
        "rough": rng.normal(0, 0.1, (70, 70)).astype(np.float32),
        "bias": rng.normal(0, 0.1, (80,)).astype(np.float32),
        "table": rng.integers(-127, 128, (101, 33)).astype(np.int8),
    }
    arrays["last"][0] = 127 * last_scales[0]  # every channel reaches 127, as quantise.channel_scales leaves it
    arrays["middle"][:, :, 0] = 127 * middle_scales[:, :, 0]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "external",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(array, name) for name, array in arrays.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(folder / "model.onnx"), save_as_external_data=True, location=page_model.WEIGHTS_NAME, size_threshold=0)
    return (folder / "model.onnx").read_bytes(), (folder / page_model.WEIGHTS_NAME).read_bytes(), arrays


def test_packing_gives_every_byte_back_and_the_page_unpacks_as_python(tmp_path: Path) -> None:
    graph, external, _ = _external_model(tmp_path)
    made = page_model.pack(graph, external)
    kinds = {}
    model = onnx.load_from_string(graph)
    starts = {t.name: int({e.key: e.value for e in t.external_data}.get("offset", 0)) for t in model.graph.initializer}
    for part in _header(made.weights)["parts"]:
        name = next(n for n, at in starts.items() if at == part["at"])
        kinds[name] = (part["channels"], part["inner"]) if "channels" in part else "as is"
    assert kinds == {"last": (80, 1), "middle": (40, 50), "rough": "as is", "bias": "as is", "table": "as is"}
    assert page_model.unpack(made.weights) == external
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is missing: scripts/setup needs Node 20 for the website's search page")
    script = f"""
import {{ unpack }} from "{WEIGHTS_JS.as_uri()}";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const packed = new Uint8Array(Buffer.from(input, "base64"));
process.stdout.write(Buffer.from(unpack(packed)).toString("base64"));
"""
    packed = base64.b64encode(made.weights).decode()
    proc = subprocess.run([node, "--input-type=module", "-e", script], input=packed, capture_output=True, text=True, check=True)
    assert base64.b64decode(proc.stdout) == external
    cut = base64.b64encode(made.weights[:-3]).decode()  # a download cut short is refused, not padded with zeros
    proc = subprocess.run([node, "--input-type=module", "-e", script], input=cut, capture_output=True, text=True)
    assert proc.returncode != 0 and "incomplete" in proc.stderr


def test_a_graph_naming_another_weights_file_is_refused(tmp_path: Path) -> None:
    graph, external, _ = _external_model(tmp_path)
    with pytest.raises(ModelError, match="unexpected weights file"):
        page_model.pack(graph.replace(page_model.WEIGHTS_NAME.encode(), b"other.weights"), external)
    with pytest.raises(ModelError, match="does not start"):
        page_model.unpack(b"not packed at all")
