"""The one way to open a knowledge base for questions: settings, model and index together, in a session.

Nothing is loaded when a session is opened. The model is opened (and exported to ONNX the first time) when a
question first needs it, and the index is built or brought up to date at that moment too, so a command that
fails on its own arguments fails before any of that work. The CLI, the MkDocs plugin, review and the
benchmarks all open sessions here; environment variables are read by them, never below.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.kb import KnowledgeBase
from ..core.settings import Settings
from ..errors import IndexLocked, IndexMissing, IndexOutdated, IndexProblem, ModelError, UsageError
from . import build, lock, store

if TYPE_CHECKING:
    from .build import IndexReport
    from .embedding import OnnxEmbedder
    from .expansion import Vocabulary
    from .rank import Answer, Filters, SearchHit
    from .similar import SimilarHit

Log = Callable[[str], None]
VOCABULARY_FILE = "vocabulary.json"
FIRST_BUILD_WAIT = 900.0  # seconds a first search waits for another process's first build (10,000 lessons take minutes)
Progress = Callable[[int, int], None]
ProgressFactory = Callable[[str], AbstractContextManager[Progress]]  # label -> a context giving a progress callback


@contextlib.contextmanager
def _no_progress(label: str) -> Iterator[Progress]:
    yield lambda done, total: None


def _quiet(message: str) -> None:
    pass


def default_cache_dir(kb: KnowledgeBase) -> Path:
    """Where the ONNX export of the model is kept when the caller names no other folder."""
    return kb.index_dir / "models"


@dataclass(frozen=True)
class SessionOptions:
    """How a session opens: which model, where its export is kept, whether to refresh the index, what to say."""

    model: str
    cache_dir: Path
    refresh: bool = True
    log: Log = _quiet
    progress: ProgressFactory = _no_progress
    fast_start: bool = False


class SearchSession:
    """The model and the index of one knowledge base, opened on first use."""

    def __init__(self, kb: KnowledgeBase, settings: Settings, options: SessionOptions) -> None:
        self.kb, self.settings, self.options = kb, settings, options
        self.model, self.cache_dir, self.log = options.model, options.cache_dir, options.log
        self._embedder: OnnxEmbedder | None = None
        self._identity: dict[str, Any] = {}
        self._data: store.IndexData | None = None
        self.writer: str | None = None  # set when another process was writing the index as this one was opened

    @property
    def updating(self) -> bool:
        """True if another process was writing a newer index while this session answered from the last complete one."""
        return self.writer is not None

    @property
    def embedder(self) -> OnnxEmbedder:
        """The ONNX embedder, exported once per model and verified against its recorded checksums. The bundled
        model's export is found from its pinned checksum without reading the weights; any other model, and any
        first export or export again, reads and verifies them."""
        if self._embedder is None:
            from . import embedding

            lock.check_index_folder(self.kb.index_dir)
            if self.model == embedding.BUNDLED:
                folder = embedding.export_dir(self.cache_dir, embedding.bundled_source())
                if embedding.export_problem(folder) is not None:
                    folder = embedding.ensure_onnx(embedding.resolve_model(self.model), self.cache_dir, self.log)
            else:
                folder = embedding.ensure_onnx(embedding.resolve_model(self.model), self.cache_dir, self.log)
            self._open_embedder(folder)
        assert self._embedder is not None
        return self._embedder

    def _open_embedder(self, folder: Path) -> None:
        from .embedding import OnnxEmbedder

        embedder = OnnxEmbedder(folder, fast_start=self.options.fast_start)
        info = embedder.info
        self._identity = {
            "spec": self.model,
            "name": info["model"],
            "sha256": info["sha256"],
            "dimension": info["dimension"],
            "max_seq_length": info["max_seq_length"],
            "onnx_sha256": info["onnx_sha256"],
        }
        self._embedder = embedder

    @property
    def identity(self) -> dict[str, Any]:
        """What the index records about the model that built it, and is checked against."""
        self.embedder  # noqa: B018  (opens the model, which fills in the identity)
        return self._identity

    @property
    def index(self) -> store.IndexData:
        """The index, built or brought up to date first when the session refreshes (saying so through the log)."""
        if self._data is None:
            self._data = self._ready()
        return self._data

    def _ready(self) -> store.IndexData:
        identity = self.identity  # starts opening the model in the background while the index loads
        root = store.index_root(self.kb.index_dir)
        try:
            data = store.load(root, expect_model=identity)
        except (IndexMissing, IndexOutdated) as exc:
            if not self.options.refresh:
                raise
            missing = isinstance(exc, IndexMissing)
            self.log(
                "No index yet: building it now (this happens once)." if missing else "The index is from an older version: updating it."
            )
            self.update(wait=FIRST_BUILD_WAIT)  # another process may be building it: there is nothing older to answer from
            data = store.load(root, expect_model=identity)
        else:
            data = self._fresh(data, identity)
        return data

    def _lessons(self) -> store.IndexData:
        """The index, which must hold at least one lesson (finding lessons like another one needs some)."""
        data = self.index
        if not data.size:
            raise UsageError(f"the knowledge base in {self.kb.root} has no valid lessons to search; run 'lessons check'")
        return data

    def _fresh(self, data: store.IndexData, identity: dict[str, Any]) -> store.IndexData:
        """The index brought up to date if lessons changed, unless another process is writing it: then readers never
        wait, they answer from the last complete generation and say so."""
        self.writer = lock.writer_active(self.kb.index_dir)
        if self.writer is None and self.options.refresh and build.is_stale(self.kb, data):
            try:
                # the index was just verified as readers do: hashing all of it again would slow the search down
                self.update(wait=0, announce="Lessons changed since the index was built: updating it first.", verify_all=False)
            except IndexLocked:  # a writer started meanwhile
                self.writer = lock.writer_active(self.kb.index_dir) or "holder unknown"
            else:
                return store.load(store.index_root(self.kb.index_dir), expect_model=identity)
        if self.writer is not None:
            self.log(f"The index is being updated by another process ({self.writer}); answering from the last complete index.")
        return data

    def update(self, rebuild: bool = False, wait: float = 10.0, announce: str = "", verify_all: bool = True) -> IndexReport:
        """Bring the index up to date with the lesson files (all of it again with `rebuild`), verifying it and
        repairing what is damaged: `lessons index`. `announce` is logged once the writer lock is held."""
        lock.check_index_folder(self.kb.index_dir)
        with self.options.progress("Embedding passages") as progress:
            report = build.refresh(
                self.kb,
                self.embedder,
                self.identity,
                rebuild=rebuild,
                progress=progress,
                log=self.log,
                wait=wait,
                announce=announce,
                verify_all=verify_all,
            )
        self._data = None
        return report

    def available(self) -> bool:
        """Open the model export and the index only if both are already on disk; never builds, exports or downloads."""
        from . import embedding

        try:
            source = embedding.bundled_source() if self.model == embedding.BUNDLED else embedding.resolve_model(self.model)
            folder = embedding.export_dir(self.cache_dir, source)
            if embedding.export_problem(folder) is not None:
                return False
            self._open_embedder(folder)
            self._data = store.load(store.index_root(self.kb.index_dir), {k: self._identity[k] for k in ("name", "sha256", "dimension")})
        except (IndexProblem, ModelError):
            self._embedder = None
            return False
        return True

    def search(
        self, queries: Sequence[str], filters: Filters | None = None, top_k: int = 5, dense_weight: float | None = None
    ) -> list[list[SearchHit]]:
        """The top lessons for each query, filters applied before the cut (see `rank.search`)."""
        return [a.hits for a in self.answer(queries, filters, top_k, dense_weight)]

    def answer(
        self, queries: Sequence[str], filters: Filters | None = None, top_k: int = 5, dense_weight: float | None = None
    ) -> list[Answer]:
        """The top lessons for each query and whether any is close (see `rank.answer`)."""
        from .rank import Answer, Filters, answer, validate_filters

        filters = filters or Filters()
        data = self.index
        if not data.size:  # a new knowledge base: nothing to find yet, which is an answer, not an error
            self.log(f"The knowledge base in {self.kb.root} has no lessons yet: nothing to search.")
            return [Answer([], nothing_close=True) for _ in queries]
        embedder = self.embedder
        if filters != Filters():
            validate_filters(filters, self.kb.taxonomy, data)
        weight = self.settings.dense_weight if dense_weight is None else dense_weight
        answers = answer(data, embedder, queries, filters, top_k, weight, self.vocabulary)
        return [dataclasses.replace(a, hits=[_in_range(hit, data) for hit in a.hits]) for a in answers]

    @property
    def vocabulary(self) -> Vocabulary:
        """The taxonomy's words a question can name technologies by, kept in `.lessons/vocabulary.json` beside the
        index with the taxonomy file's size and time: a search then reads that small file instead of parsing the
        taxonomy (YAML), which a cold search would otherwise spend more time on than on its question."""
        import json

        from ..core.files import write_atomic
        from .expansion import Vocabulary

        cache, state = self.kb.index_dir / VOCABULARY_FILE, build.taxonomy_state(self.kb)
        with contextlib.suppress(OSError, ValueError):
            stored = json.loads(cache.read_text(encoding="utf-8"))
            current = isinstance(stored, dict) and stored.get("taxonomy_stat") == state
            found = Vocabulary.from_json(stored.get("entries")) if current else None
            if found is not None:
                return found
        vocabulary = Vocabulary.of(self.kb.taxonomy)
        with contextlib.suppress(OSError):  # a cache: a knowledge base this process cannot write still answers
            write_atomic(cache, json.dumps({"taxonomy_stat": state, "entries": list(vocabulary.entries)}, ensure_ascii=False))
        return vocabulary

    def similar(self, target: str, top: int = 5, exclude: Collection[str] = ()) -> tuple[str, list[SimilarHit]]:
        """Lessons close to `target`, an indexed lesson's id or a lesson file (even a draft): its id and the hits."""
        from .similar import Tiers, find_similar

        lesson_id, hits = find_similar(self.kb, self._lessons(), self.embedder, target, top + len(exclude), Tiers.of(self.settings))
        return lesson_id, [hit for hit in hits if hit.id not in exclude][:top]

    def similar_to_text(self, text: str, technologies: list[str], top: int = 3) -> list[SimilarHit]:
        """The lessons closest to a few words (a new lesson's title and summary), whatever their score."""
        from .similar import Tiers, similar_to_text

        return similar_to_text(self._lessons(), self.embedder, text, technologies, top, Tiers.of(self.settings))

    def related(self, shown: set[str], k: int = 5) -> dict[str, list[str]]:
        """Up to k published lessons related by meaning to every lesson in `shown` (above the related thresholds):
        the site's related lessons, after the author's own `related:` ones, which the site adds itself."""
        from .similar import Tiers, related_lessons

        return related_lessons(self.index, shown, Tiers.of(self.settings), k) if shown else {}

    def browser_files(self, shown: set[str]) -> dict[str, bytes]:
        """The website search page's model and data for the lessons in `shown`, by path inside its folder."""
        from .export import browser_files, ensure_page_model, ranking_parameters
        from .page_model import warm_up

        embedder, data = self.embedder, self.index
        model = ensure_page_model(embedder.folder)
        ranking = ranking_parameters(embedder.info, embedder.tokenizer, self.settings.dense_weight, model, self.kb.taxonomy)
        files = {f"data/{name}": content for name, content in browser_files(data, shown, self.kb.taxonomy, ranking).items()}
        files["model/model.onnx"] = model.graph
        files[f"model/{ranking['model']['weights_name']}"] = model.weights
        files["model/warm-up.onnx"] = warm_up()
        files["model/tokenizer.json"] = (embedder.folder / "tokenizer.json").read_bytes()
        return files


def _in_range(hit: SearchHit, data: store.IndexData) -> SearchHit:
    """Refuse a similarity no unit vectors could give (the index is damaged); keep every score shown in [-1, 1].
    The cosine (`dense_score`) and the keyword share lie there already, up to float rounding; the ranking `score`
    adds the rare-word and topic bonuses of `fusion.py`, so it can pass 1: it is shown clamped, while the order
    (`rank`) comes from the unclamped value."""
    import math

    in_range = all(math.isfinite(x) and -1.001 <= x <= 1.001 for x in (hit.dense_score, hit.keyword_score))
    if not (in_range and math.isfinite(hit.score)):
        raise store.damaged(data.folder, f"a score of {hit.dense_score} for {hit.id}: its vectors are not unit length")
    return dataclasses.replace(hit, score=min(max(hit.score, -1.0), 1.0), dense_score=min(max(hit.dense_score, -1.0), 1.0))


def open_session(
    kb: KnowledgeBase,
    settings: Settings,
    *,
    model: str | None = None,
    cache_dir: Path | None = None,
    refresh: bool = True,
    log: Log | None = None,
    progress: ProgressFactory | None = None,
    fast_start: bool = False,
) -> SearchSession:
    """A session on `kb`. `model` overrides lessons.toml's model; `cache_dir` holds the ONNX export (default
    `.lessons/models`); `refresh` builds or updates the index before the first question; `log` and `progress`
    say what takes time; `fast_start` opens the model faster for short queries, at some cost for bulk embedding."""
    options = SessionOptions(
        model or settings.model, cache_dir or default_cache_dir(kb), refresh, log or _quiet, progress or _no_progress, fast_start
    )
    return SearchSession(kb, settings, options)
