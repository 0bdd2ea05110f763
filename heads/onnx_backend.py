"""int8 inference through ONNX Runtime for the embedder and the reranker.

A transformer already loaded in torch (the embedder's BERT, the reranker's merged
cross-encoder) is exported once to ONNX from memory, its attention and LayerNorm
subgraphs fused by ONNX Runtime's BERT optimizer, and its linear layers quantised
to int8 with :func:`onnxruntime.quantization.quantize_dynamic` (weights per output
channel; activations quantised per batch at run time). The files live in
``<cache>/onnx/<key>/`` (:func:`newsrank.precision.cache_dir`); ``key`` digests the
weights, the export options and the library versions (:func:`export_key`), so
another adapter, ``max_length`` or onnxruntime never reuses a stale graph. A graph is
written into a temporary directory and renamed into place, so two processes building
the same one at once never see a half-written file (the loser's copy is dropped).

The caller tokenizes exactly as on the torch path and pools the outputs the same way
(:func:`mean_pool`, :func:`l2_normalize`: what sentence-transformers' ``Pooling`` in
mean mode and ``Normalize`` compute); only the transformer runs in ONNX Runtime.

>>> hidden = np.array([[[1.0, 0.0], [3.0, 4.0], [9.0, 9.0]]], dtype=np.float32)
>>> mean_pool(hidden, np.array([[1, 1, 0]]))
array([[2., 2.]], dtype=float32)
>>> l2_normalize(np.array([[3.0, 4.0]], dtype=np.float32))
array([[0.6, 0.8]], dtype=float32)
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from newsrank.precision import cache_dir, has_vnni, require_int8, resolve_with_int8

log = logging.getLogger(__name__)

#: bump when the export recipe changes, so that every cached graph is rebuilt
RECIPE = 1
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class ExportSpec:
    """How one model is exported: its role, what its graph returns, the input limit."""

    role: str  # "embedder" or "cross-encoder"
    output: str  # "last_hidden_state" or "logits"
    max_length: int
    per_channel: bool = True
    #: 7-bit weights, for CPUs whose int8 dot products saturate (no VNNI/AMX-INT8)
    reduce_range: bool = False
    opset: int = OPSET


def default_spec(role: str, output: str, max_length: int) -> ExportSpec:
    """The spec for this CPU (``reduce_range`` where it has no VNNI)."""
    return ExportSpec(role, output, max_length, reduce_range=not has_vnni())


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of every parameter and buffer (names, dtypes, shapes, bytes) and the
    model's config: two models share a digest only when they compute the same thing."""
    h = hashlib.sha256()
    config = getattr(model, "config", None)
    if config is not None:
        h.update(json.dumps(config.to_dict(), sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def export_key(digest: str, spec: ExportSpec) -> str:
    """The cache directory name of one model exported with ``spec`` by these library
    versions (the first 24 hex digits of a SHA-256)."""
    import onnx
    import onnxruntime
    import transformers

    fields = {
        "weights": digest,
        "spec": asdict(spec),
        "recipe": RECIPE,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:24]


class _Graph(torch.nn.Module):
    """The transformer with positional inputs and one output, as the exporter wants it."""

    def __init__(self, model: torch.nn.Module, output: str, names: Sequence[str]) -> None:
        super().__init__()
        self.model, self.output, self.names = model, output, tuple(names)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return getattr(self.model(**dict(zip(self.names, inputs))), self.output)


def _eager_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A float32 CPU copy of ``model`` with eager attention (its graph is what ONNX
    Runtime's optimizer fuses into one Attention op; the caller's model is untouched)."""
    clone = copy.deepcopy(model).to("cpu").float().eval()
    setter = getattr(clone, "set_attn_implementation", None)
    if callable(setter):
        try:
            setter("eager")
        except (ValueError, AttributeError, TypeError):
            pass
    elif getattr(clone, "config", None) is not None:
        clone.config._attn_implementation = "eager"
    return clone


def _export_fp32(
    model: torch.nn.Module, spec: ExportSpec, sample: Mapping[str, torch.Tensor], path: Path
) -> list[str]:
    """Write the float32 graph; returns its input names."""
    names = [k for k in INPUTS if k in sample]
    graph = _Graph(_eager_copy(model), spec.output, names)
    axes = {k: {0: "batch", 1: "sequence"} for k in names}
    axes[spec.output] = {0: "batch"} if spec.output == "logits" else {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            tuple(sample[k].to("cpu") for k in names),
            str(path),
            dynamo=False,  # the TorchScript exporter, as optimum uses: dynamic axes, no onnxscript
            input_names=names,
            output_names=[spec.output],
            dynamic_axes=axes,
            opset_version=spec.opset,
            do_constant_folding=True,
        )
    return names


def _fuse(src: Path, dst: Path, config: Any) -> None:
    """ONNX Runtime's transformer fusions (Attention, SkipLayerNorm, BiasGelu) for a BERT
    graph; another architecture is copied unfused (still correct, slower)."""
    if getattr(config, "model_type", "") != "bert":
        shutil.copyfile(src, dst)
        return
    from onnxruntime.transformers.optimizer import optimize_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimized = optimize_model(
            str(src),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
        )
    optimized.save_model_to_file(str(dst))


def _quantize(src: Path, dst: Path, spec: ExportSpec) -> None:
    """Dynamic int8 quantisation of the encoder's MatMul and Attention weights; the
    pooler and classifier (a few thousand multiply-adds) stay float32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src), load_external_data=False).graph
    keep = [n.name for n in graph.node if "pooler" in n.name or "classifier" in n.name]
    logging.disable(logging.WARNING)  # "consider pre-processing": the fusions above do it
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            per_channel=spec.per_channel,
            reduce_range=spec.reduce_range,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=keep,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        logging.disable(logging.NOTSET)


_build_lock = threading.Lock()


def export_int8(
    model: torch.nn.Module,
    spec: ExportSpec,
    sample: Mapping[str, torch.Tensor],
    cache: Path | None = None,
    digest: str | None = None,
) -> Path:
    """The int8 graph of ``model`` (``model.int8.onnx`` under its cache directory),
    exported on first use. ``sample``: one tokenized batch with padding, to trace."""
    require_int8("cpu")
    root = Path(cache or cache_dir()) / "onnx"
    final = root / export_key(digest or weights_digest(model), spec)
    target = final / "model.int8.onnx"
    if target.is_file():
        return target
    with _build_lock:  # one thread of this process builds; other processes race by rename
        if target.is_file():
            return target
        root.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
        try:
            names = _export_fp32(model, spec, sample, tmp / "model.fp32.onnx")
            _fuse(tmp / "model.fp32.onnx", tmp / "model.fused.onnx", getattr(model, "config", None))
            _quantize(tmp / "model.fused.onnx", tmp / "model.int8.onnx", spec)
            for name in ("model.fp32.onnx", "model.fused.onnx"):
                (tmp / name).unlink()
            meta = {"spec": asdict(spec), "inputs": names, "seconds": time.perf_counter() - t}
            (tmp / "export.json").write_text(json.dumps(meta, indent=1) + "\n")
            try:
                os.rename(tmp, final)
            except OSError:
                if not target.is_file():  # not a lost race: a real failure
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported %s to int8 ONNX in %.1f s: %s", spec.role, time.perf_counter() - t, final)
    return target


class OnnxModel:
    """An ONNX Runtime session over one int8 graph; ``run`` is safe from several threads.

    ``threads``: intra-op threads (default: torch's current count, so ``--torch-threads``
    governs both runtimes). ``spinning``: whether ONNX Runtime's idle worker threads
    busy-wait for the next run (ONNX Runtime's own default) instead of sleeping. Off by
    default: in a search the int8 reranker's run is followed by torch work (the reader,
    the next query's vector), which spinning threads starve on a small CPU; on a 2-core
    AMD EPYC the default search at int8 took 1.04x float32's p50 with spinning and 0.91x
    without, embedding speed the same (``benchmarks/onnx_spinning.py``,
    docs/benchmarks.md).
    """

    def __init__(
        self, path: str | Path, threads: int | None = None, *, spinning: bool = False
    ) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads or torch.get_num_threads())
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", str(int(spinning)))
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def run(self, features: Mapping[str, Any]) -> np.ndarray:
        """The graph's one output for a tokenized batch (torch tensors or arrays)."""
        feed = {}
        for name in self.input_names:
            value = features[name]
            value = value.cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
            feed[name] = value.astype(np.int64, copy=False)
        return self.session.run(None, feed)[0]


class Int8Graph:
    """A model's int8 graph, exported and opened on first use: the one holder of it in
    :class:`heads.base.HeadModel` and :class:`indexer.dense.Embedder`.

    ``open_graph`` returns the session (:func:`load_int8` of the model); it is called at
    most once, under a lock, however many threads ask. :meth:`resolve` opens it when
    ``precision`` comes out as int8, so a model shared between threads never exports.

    >>> opened = []
    >>> graph = Int8Graph(lambda: opened.append(1) or "a session")
    >>> graph.is_open, graph.session, graph.session, len(opened), graph.is_open
    (False, 'a session', 'a session', 1, True)
    """

    def __init__(self, open_graph: Callable[[], OnnxModel]) -> None:
        self._open = open_graph
        self._session: OnnxModel | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> OnnxModel:
        """The ONNX Runtime session, exported and opened on the first call."""
        with self._lock:
            if self._session is None:
                self._session = self._open()
            return self._session

    def run(self, features: Mapping[str, Any]) -> np.ndarray:
        """:meth:`OnnxModel.run` of the session."""
        return self.session.run(features)

    def reopen(self, threads: int | None = None, *, spinning: bool = False) -> None:
        """The same graph file in a new session with other runtime settings
        (``benchmarks/onnx_spinning.py`` compares them)."""
        self._session = OnnxModel(self.session.path, threads, spinning=spinning)

    def resolve(
        self,
        precision: str,
        device_type: str,
        role: str,
        shape: dict[str, Any],
        calibrate: Callable[[list[str]], dict[str, float]],
    ) -> str:
        """:func:`newsrank.precision.resolve_with_int8`, the graph opened when the answer
        is ``"int8"``."""
        resolved = resolve_with_int8(precision, device_type, role, shape, calibrate)
        if resolved == "int8":
            self.session  # noqa: B018 (open it now, before the model is shared)
        return resolved


def load_int8(
    model: torch.nn.Module,
    spec: ExportSpec,
    sample: Mapping[str, torch.Tensor],
    cache: Path | None = None,
) -> OnnxModel:
    """:func:`export_int8` (or the cached graph), opened in a session."""
    return OnnxModel(export_int8(model, spec, sample, cache))


def model_shape(model: torch.nn.Module, max_length: int, batch: int) -> dict[str, Any]:
    """What a model's speed depends on (the calibration key of newsrank.precision)."""
    config = getattr(model, "config", None)
    keys = ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads")
    shape: dict[str, Any] = {k: getattr(config, k, None) for k in keys}
    shape["intermediate_size"] = getattr(config, "intermediate_size", None)
    return {**shape, "max_length": max_length, "batch": batch}


def time_candidates(runs: Mapping[str, Callable[[], object]], repeats: int = 3) -> dict[str, float]:
    """Seconds of each candidate's run: the fastest of ``repeats`` after one warm-up,
    interleaved so that a burst of load elsewhere hits every candidate alike."""
    for fn in runs.values():
        fn()
    best = {name: float("inf") for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors the attention mask keeps, as sentence-transformers'
    mean pooling computes it (the count clamped at 1e-9)."""
    m = np.asarray(mask)[..., None].astype(np.float32)
    summed = (np.asarray(hidden, dtype=np.float32) * m).sum(axis=1)
    return summed / np.clip(m.sum(axis=1), 1e-9, None)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (``torch.nn.functional.normalize``: norm clamped at 1e-12)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def synthetic_texts(n: int, words: int, seed: int = 0) -> list[str]:
    """``n`` deterministic news-like texts of ``words`` words, for calibration timing."""
    vocab = (
        "the government said on monday that oil prices rose after talks between ministers "
        "in london and washington ended without an agreement on new sanctions while markets "
        "fell sharply as investors worried about inflation and the central bank"
    ).split()
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(vocab, size=words)) for _ in range(n)]
