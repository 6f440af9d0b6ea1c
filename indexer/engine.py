"""Putting settings, model and index together for the commands that answer questions."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from . import embed, indexing, store
from .errors import UsageError
from .kb import KnowledgeBase
from .settings import Settings

Log = Callable[[str], None]


def model_spec(settings: Settings, override: str | None = None) -> str:
    """The model to use: the flag, then LESSONS_MODEL, then lessons.toml, then the bundled one."""
    return override or os.environ.get("LESSONS_MODEL") or settings.model


def open_embedder(kb: KnowledgeBase, spec: str, log: Log | None = None,
                  fast_start: bool = False) -> tuple[embed.OnnxEmbedder, dict[str, Any]]:
    """The ONNX embedder for `spec` and the identity recorded in (and checked against) the index.

    The bundled model's export is found from its pinned checksum without reading the weights; any
    other model, and any first export, reads and verifies the weights.
    """
    cache = indexing.cache_dir(kb)
    if spec == embed.BUNDLED:
        source = embed.ModelSource(spec, embed.BUNDLED_NAME, None, embed.BUNDLED_SHA256)
        folder = embed.export_dir(cache, source)
        if not (folder / "export.json").is_file():
            folder = embed.ensure_onnx(embed.resolve_model(spec), cache, log)
    else:
        folder = embed.ensure_onnx(embed.resolve_model(spec), cache, log)
    embedder = embed.OnnxEmbedder(folder, fast_start=fast_start)
    info = embedder.info
    identity = {"spec": spec, "name": info["model"], "sha256": info["sha256"], "dimension": info["dimension"],
                "max_seq_length": info["max_seq_length"], "onnx_sha256": info["onnx_sha256"]}
    return embedder, identity


def ready_index(kb: KnowledgeBase, embedder: Any, identity: dict[str, Any], refresh: bool = True,
                log: Log | None = None, progress: indexing.Progress | None = None) -> store.IndexData:
    """The index, built or brought up to date first when `refresh` (saying so through `log`)."""
    root = store.index_root(kb.index_dir)
    try:
        data = store.load(root, expect_model=identity)
    except store.IndexMissing:
        if not refresh:
            raise
        if log:
            log("No index yet: building it now (this happens once).")
        indexing.refresh(kb, embedder, identity, progress=progress, log=log)
        data = store.load(root, expect_model=identity)
    else:
        if refresh and indexing.is_stale(kb, data):
            if log:
                log("Lessons changed since the index was built: updating it first.")
            report = indexing.refresh(kb, embedder, identity, progress=progress, log=log)
            if not report.up_to_date:
                data = store.load(root, expect_model=identity)
    if not data.size:
        raise UsageError(f"the knowledge base in {kb.root} has no valid lessons to search; run 'lessons check'")
    return data



def existing_index(kb: KnowledgeBase, spec: str) -> tuple[store.IndexData, embed.OnnxEmbedder] | None:
    """The index and embedder if both are already on disk; never builds, exports or downloads anything."""
    try:
        source = (embed.ModelSource(spec, embed.BUNDLED_NAME, None, embed.BUNDLED_SHA256) if spec == embed.BUNDLED
                  else embed.resolve_model(spec))
    except embed.ModelError:
        return None
    folder = embed.export_dir(indexing.cache_dir(kb), source)
    if not (folder / "export.json").is_file():
        return None
    try:
        embedder = embed.OnnxEmbedder(folder, fast_start=True)
        info = embedder.info
        data = store.load(store.index_root(kb.index_dir), {"name": info["model"], "sha256": info["sha256"],
                                                             "dimension": info["dimension"]})
    except (store.IndexProblem, embed.ModelError):
        return None
    return data, embedder
