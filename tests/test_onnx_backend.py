"""int8 inference through ONNX Runtime (heads.onnx_backend) and how ``auto`` chooses it.

The export tests use tiny random BERTs (two layers, 32 dimensions, the packaged
tokenizer), exported once per session into a temporary cache, so they take seconds;
closeness to torch is checked with tolerances, never bitwise, and nothing here
depends on whether int8 is faster on this CPU (``choose_auto`` gets fake timings).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import torch  # noqa: E402

from newsrank import precision as P  # noqa: E402
from newsrank.extras import MissingExtraError  # noqa: E402

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
TEXTS = [
    "Oil prices rose 3% as OPEC agreed to cut output.",
    "Arsenal won the cup final on Saturday.",
    "short",
    "The central bank left interest rates unchanged, citing inflation that stays high "
    "while growth slows across the euro area and in Britain.",
]


def tiny_bert_config(**extra):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
        **extra,
    )


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    from newsrank.modelpath import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model(MINILM))


@pytest.fixture(scope="session")
def tiny_embedder_dir(tmp_path_factory, tokenizer):
    """A sentence-transformers model (tiny random BERT, mean pooling, Normalize) on disk."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers import BertModel

    torch.manual_seed(0)
    hf = tmp_path_factory.mktemp("tiny-hf")
    BertModel(tiny_bert_config()).save_pretrained(hf)
    tokenizer.save_pretrained(hf)
    module = Transformer(str(hf), max_seq_length=64)
    model = SentenceTransformer(modules=[module, Pooling(32, "mean"), Normalize()], device="cpu")
    out = tmp_path_factory.mktemp("tiny-st")
    model.save(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_reranker_dir(tmp_path_factory, tokenizer):
    """A plain Hugging Face sequence classifier with one output (tiny random BERT)."""
    from transformers import BertForSequenceClassification

    torch.manual_seed(1)
    out = tmp_path_factory.mktemp("tiny-ce")
    BertForSequenceClassification(tiny_bert_config(num_labels=1)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def int8_env(onnx_cache):
    """The int8 models' cache in a temporary directory, for the whole session."""
    old = os.environ.get("NEWSRANK_CACHE_DIR")
    os.environ["NEWSRANK_CACHE_DIR"] = str(onnx_cache)
    yield onnx_cache
    if old is None:
        os.environ.pop("NEWSRANK_CACHE_DIR", None)
    else:
        os.environ["NEWSRANK_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def embedders(int8_env, tiny_embedder_dir):
    from indexer.dense import Embedder

    fp32 = Embedder(str(tiny_embedder_dir), batch_size=2, precision="fp32", device="cpu")
    int8 = Embedder(str(tiny_embedder_dir), batch_size=2, precision="int8", device="cpu")
    return fp32, int8


@pytest.fixture(scope="session")
def rerankers(int8_env, tiny_reranker_dir):
    from heads.cross_encoder import CrossEncoder

    kwargs = {"device": "cpu", "max_length": 64}
    fp32 = CrossEncoder(str(tiny_reranker_dir), precision="fp32", **kwargs)
    int8 = CrossEncoder(str(tiny_reranker_dir), precision="int8", **kwargs)
    return fp32, int8


def test_int8_embeddings_are_unit_vectors_close_to_float32(embedders):
    fp32, int8 = embedders
    assert (fp32.precision, int8.precision) == ("fp32", "int8")
    a, b = fp32.encode(TEXTS), int8.encode(TEXTS)
    assert b.shape == a.shape == (len(TEXTS), 32) and b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, rtol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.98  # the same texts, tokenized and pooled alike
    assert not np.array_equal(a, b)  # the int8 graph really ran
    # rows come back in input order although batches run longest first
    np.testing.assert_allclose(int8.encode(TEXTS[::-1])[::-1], b, atol=0.02)
    assert int8.encode([]).shape[0] == 0


def test_int8_queries_stay_float32(embedders):
    fp32, int8 = embedders
    np.testing.assert_allclose(
        int8.encode(TEXTS[:2], queries=True), fp32.encode(TEXTS[:2], queries=True), atol=1e-6
    )


def test_int8_reranker_scores_close_to_float32(rerankers):
    fp32, int8 = rerankers
    assert int8.precision == "int8"
    pairs = [("oil prices", t) for t in TEXTS]
    a, b = fp32.predict(pairs), int8.predict(pairs)
    assert b.shape == (len(TEXTS),) and b.dtype == np.float32
    assert ((b > 0) & (b < 1)).all()  # a sigmoid, as on the torch path
    np.testing.assert_allclose(a, b, atol=0.05)
    assert [d.index for d in int8.rank("oil prices", TEXTS)][0] in range(len(TEXTS))


def test_int8_sessions_sleep_between_runs_unless_asked(int8_env, tiny_reranker_dir):
    from heads import onnx_backend as ob
    from heads.cross_encoder import CrossEncoder

    ce = CrossEncoder(str(tiny_reranker_dir), precision="fp32", device="cpu", max_length=64)
    path = ob.export_int8(
        ce.model, ob.default_spec("cross-encoder", "logits", 64), ce.int8_sample()
    )

    def spinning(model: ob.OnnxModel) -> str:
        options = model.session.get_session_options()
        return options.get_session_config_entry("session.intra_op.allow_spinning")

    assert spinning(ob.OnnxModel(path, 1)) == "0"
    assert spinning(ob.OnnxModel(path, 1, spinning=True)) == "1"


def test_the_int8_graph_opens_only_at_int8_and_reopens_with_other_settings(
    int8_env, tiny_reranker_dir
):
    from heads.cross_encoder import CrossEncoder

    fp32 = CrossEncoder(str(tiny_reranker_dir), precision="fp32", device="cpu", max_length=64)
    assert not fp32.int8.is_open  # nothing exported for a float32 head
    int8 = CrossEncoder(str(tiny_reranker_dir), precision="int8", device="cpu", max_length=64)
    assert int8.int8.is_open  # opened before the head is shared
    first = int8.int8.session
    before = int8.predict([("oil prices", TEXTS[0])])
    int8.int8.reopen(1, spinning=True)
    again = int8.int8.session
    assert again is not first and again.path == first.path
    options = again.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    np.testing.assert_allclose(int8.predict([("oil prices", TEXTS[0])]), before, atol=1e-6)


def test_a_graph_is_exported_once_and_keyed_by_the_weights(
    int8_env, tiny_reranker_dir, monkeypatch
):
    from heads import onnx_backend as ob
    from heads.cross_encoder import CrossEncoder

    ce = CrossEncoder(str(tiny_reranker_dir), precision="fp32", device="cpu", max_length=64)
    spec = ob.default_spec("cross-encoder", "logits", 64)
    first = ob.export_int8(ce.model, spec, ce.int8_sample())
    monkeypatch.setattr(ob, "_export_fp32", lambda *a, **k: pytest.fail("exported twice"))
    assert ob.export_int8(ce.model, spec, ce.int8_sample()) == first  # the cached graph
    assert first.parent.parent == int8_env / "onnx"
    assert json.loads((first.parent / "export.json").read_text())["spec"]["max_length"] == 64
    assert not list((int8_env / "onnx").glob(".build-*"))  # no temporary left behind
    digest = ob.weights_digest(ce.model)
    with torch.no_grad():
        ce.model.classifier.bias.add_(1.0)  # another adapter: other weights
    assert ob.weights_digest(ce.model) != digest
    longer = ob.ExportSpec("cross-encoder", "logits", 128)
    assert ob.export_key(digest, longer) != ob.export_key(digest, spec)


def test_a_lost_build_race_keeps_the_winners_graph(int8_env, tiny_reranker_dir, monkeypatch):
    """Two processes export the same model: the second to rename finds the first's graph
    in place, drops its own copy and uses the winner's."""
    from heads import onnx_backend as ob
    from heads.cross_encoder import CrossEncoder

    ce = CrossEncoder(str(tiny_reranker_dir), precision="fp32", device="cpu", max_length=32)
    spec = ob.default_spec("cross-encoder", "logits", 32)
    final = int8_env / "onnx" / ob.export_key(ob.weights_digest(ce.model), spec)
    real_rename = os.rename

    def rival_wins(src, dst):
        real_rename(src, dst)  # the rival's finished directory lands first...
        os.makedirs(src)
        raise OSError(39, "Directory not empty")  # ...so ours cannot

    monkeypatch.setattr(ob.os, "rename", rival_wins)
    path = ob.export_int8(ce.model, spec, ce.int8_sample())
    assert path == final / "model.int8.onnx" and path.is_file()
    assert not list((int8_env / "onnx").glob(".build-*"))


def test_int8_needs_a_cpu_and_the_extra(monkeypatch):
    P.check_precision("int8")
    with pytest.raises(ValueError, match="CPU only"):
        P.require_int8("cuda")
    monkeypatch.setattr(P, "int8_available", lambda: False)
    with pytest.raises(MissingExtraError) as e:
        P.require_int8("cpu")
    assert "pip install 'newsrank[onnx]'" in str(e.value)
    # a torch-only head reads int8 as auto's torch choice
    assert P.resolve_precision("int8", "cuda") == "fp32"
    assert P.resolve_precision("int8", "cpu") == P.resolve_precision("auto", "cpu")


def test_auto_calibrates_once_and_picks_int8_only_when_faster(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSRANK_AUTO_INT8", "embedder")  # opted in (by default only the reranker)
    monkeypatch.setattr(P.os, "getloadavg", lambda: (0.0, 0.0, 0.0))  # an idle machine
    torch_choice = P.resolve_precision("auto", "cpu")
    calls = []

    def measure(seconds):
        def run(candidates):
            calls.append(candidates)
            return {c: seconds[c] for c in candidates}

        return run

    fast = measure({torch_choice: 1.0, "int8": 0.5})
    shape = {"hidden_size": 32}
    assert P.choose_auto("embedder", shape, "cpu", fast, tmp_path) == "int8"
    assert P.choose_auto("embedder", shape, "cpu", fast, tmp_path) == "int8"
    assert calls == [[torch_choice, "int8"]]  # measured once, then read from the cache
    slow = measure({torch_choice: 1.0, "int8": 0.95})  # within the margin: not worth it
    assert P.choose_auto("embedder", {"hidden_size": 64}, "cpu", slow, tmp_path) == torch_choice
    saved = json.loads((tmp_path / "calibration.json").read_text())
    assert sorted(e["choice"] for e in saved.values()) == sorted(["int8", torch_choice])
    assert all('"cpu"' in key and '"onnxruntime"' in key for key in saved)
    # a role not opted in, off the CPU, with NEWSRANK_AUTO_INT8=0, or the embedder with it
    # unset (by default only the reranker is opted in), auto never measures
    never = measure({})
    assert P.choose_auto("cross-encoder", shape, "cpu", never, tmp_path) == torch_choice
    assert P.choose_auto("embedder", {"x": 1}, "cuda", never, tmp_path) == "fp32"
    monkeypatch.setenv("NEWSRANK_AUTO_INT8", "0")
    assert P.choose_auto("embedder", {"x": 1}, "cpu", never, tmp_path) == torch_choice
    monkeypatch.delenv("NEWSRANK_AUTO_INT8")
    assert P.choose_auto("embedder", {"x": 2}, "cpu", never, tmp_path) == torch_choice
    assert len(calls) == 2
    # unset, the reranker is opted in: calibrated where the extra is installed
    monkeypatch.setattr(P, "int8_available", lambda: True)
    assert P.choose_auto("cross-encoder", {"x": 2}, "cpu", fast, tmp_path) == "int8"
    assert len(calls) == 3
    monkeypatch.setattr(P, "int8_available", lambda: False)
    assert P.choose_auto("cross-encoder", {"x": 4}, "cpu", never, tmp_path) == torch_choice
    monkeypatch.setattr(P, "int8_available", lambda: True)
    # timings taken on a busy machine decide this once but are not cached
    monkeypatch.setenv("NEWSRANK_AUTO_INT8", "embedder")
    monkeypatch.setattr(P.os, "getloadavg", lambda: (99.0, 99.0, 99.0))
    assert P.choose_auto("embedder", {"x": 3}, "cpu", fast, tmp_path) == "int8"
    assert P.choose_auto("embedder", {"x": 3}, "cpu", fast, tmp_path) == "int8"
    assert len(calls) == 5


def test_int8_refuses_an_embedder_it_cannot_pool_alike(int8_env, tiny_embedder_dir):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Pooling

    from indexer.dense import Embedder

    model = SentenceTransformer(str(tiny_embedder_dir), device="cpu")
    model[1] = Pooling(32, "cls")
    e = Embedder(str(tiny_embedder_dir), precision="fp32", device="cpu")
    e._model = model
    with pytest.raises(ValueError, match="mean pooling"):
        e._open_int8()


@pytest.mark.slow
def test_shipped_models_keep_their_rankings_at_int8(int8_env):
    """The real embedder and reranker (exports take ~15 s each on 2 cores)."""
    from heads.cross_encoder import CrossEncoder
    from indexer.dense import Embedder
    from newsrank.config import IndexConfig

    fp32 = Embedder(IndexConfig().embedder, precision="fp32")
    int8 = Embedder(IndexConfig().embedder, precision="int8")
    a, b = fp32.encode(TEXTS * 4), int8.encode(TEXTS * 4)
    assert (a * b).sum(axis=1).min() > 0.97
    ce32, ce8 = CrossEncoder("reranker", precision="fp32"), CrossEncoder(precision="int8")
    docs = ["Arsenal won the cup final on Saturday.", "Oil prices rose 3% as OPEC cut output."]
    assert [d.index for d in ce8.rank("oil prices", docs)] == [1, 0]
    pairs = [("oil prices", d) for d in TEXTS]
    assert np.abs(ce32.predict(pairs) - ce8.predict(pairs)).max() < 0.2
