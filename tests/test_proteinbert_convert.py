"""The ProteinBERT converter: safe unpickling, hash and structure checks, and equivalence with an independent NumPy
forward pass of the specification (docs: proteinbert.md sections 2-3) on a dump with the official structure.

The official dump cannot be downloaded here, so the fixture is a protocol-3 pickle of `(n_annotations, 145 weights,
291 optimizer entries)` with random weights and small widths (the structure, i.e. the number, order and rank of the
arrays, is the released one). The reference below indexes the Keras weight list by the spec's offsets itself; it
shares no code with the converter or the PyTorch model.
"""

from __future__ import annotations

import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from proteinhub import ProteinTokenizer
from proteinhub.modeling.proteinbert import ProteinBertConfig, ProteinBertForPreTraining
from proteinhub.modeling.proteinbert import convert_proteinbert_keras as converter

# a small ProteinBERT with the released structure (6 blocks, 4 heads, kernel 9, dilation 5, 26 tokens)
SMALL = {"d": 16, "g": 32, "heads": 4, "key": 8, "annotations": 20, "blocks": 6, "kernel": 9, "dilation": 5}
LETTERS = "ACDEFGHIKLMNPQRSTUVWXY"  # the original tokenizer's 22 letters (ids 0..21)
OTHER, START, END, PAD = 22, 23, 24, 25


# the specification in NumPy (float64)


def _shapes(d: int, g: int, heads: int, key: int, annotations: int, blocks: int, kernel: int) -> list[tuple]:
    """Shapes of the Keras weights in get_weights() order, written from the spec's table (section 3.3)."""
    shapes = [(annotations, g), (g,), (26, d)]
    for _ in range(blocks):
        shapes += [(g, d), (d,), (kernel, d, d), (d,), (kernel, d, d), (d,), (d,), (d,), (d, d), (d,), (d,), (d,)]
        shapes += [(g, g), (g,), (heads, g, key), (heads, d, key), (heads, d, g // heads), (g,), (g,)]
        shapes += [(g, g), (g,), (g,), (g,)]
    return shapes + [(d, 26), (26,), (g, annotations), (annotations,)]


def _gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _layer_norm(x, gamma, beta, eps=1e-3):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * gamma + beta


def _conv_same(x, kernel, bias, dilation):
    """Keras Conv1D, padding='same', stride 1: x (L, in), kernel (k, in, out)."""
    taps, length = kernel.shape[0], x.shape[0]
    half = (taps - 1) * dilation // 2
    padded = np.concatenate([np.zeros((half, x.shape[1])), x, np.zeros((half, x.shape[1]))])
    out = np.zeros((length, kernel.shape[2]))
    for tap in range(taps):
        out += padded[tap * dilation : tap * dilation + length] @ kernel[tap]
    return out + bias


def reference_forward(weights: list[np.ndarray], tokens: np.ndarray, annotations: np.ndarray, dilation: int) -> dict:
    """The original model on one protein: tokens (L,) original ids, annotations (A,). Returns the token and
    annotation probabilities and every layer-norm output (spec sections 2.3-2.6, 2.10)."""
    w = [np.asarray(x, dtype=np.float64) for x in weights]
    x = w[2][tokens]  # (L, d)
    g = _gelu(annotations @ w[0] + w[1])
    local_norms, global_norms = [], [g]
    blocks = (len(w) - 7) // 23
    for block in range(blocks):
        b = 3 + 23 * block
        s = _gelu(g @ w[b] + w[b + 1])
        narrow = _gelu(_conv_same(x, w[b + 2], w[b + 3], 1))
        wide = _gelu(_conv_same(x, w[b + 4], w[b + 5], dilation))
        x1 = _layer_norm(x + s + narrow + wide, w[b + 6], w[b + 7])
        x2 = _layer_norm(x1 + _gelu(x1 @ w[b + 8] + w[b + 9]), w[b + 10], w[b + 11])
        dense1 = _gelu(g @ w[b + 12] + w[b + 13])
        heads = []
        for h in range(w[b + 14].shape[0]):
            query = np.tanh(g @ w[b + 14][h])
            keys = np.tanh(x2 @ w[b + 15][h])
            values = _gelu(x2 @ w[b + 16][h])
            scores = keys @ query / math.sqrt(query.shape[0])
            alpha = np.exp(scores - scores.max())
            heads.append((alpha / alpha.sum()) @ values)
        g1 = _layer_norm(g + dense1 + np.concatenate(heads), w[b + 17], w[b + 18])
        g2 = _layer_norm(g1 + _gelu(g1 @ w[b + 19] + w[b + 20]), w[b + 21], w[b + 22])
        local_norms += [x1, x2]
        global_norms += [g1, g2]
        x, g = x2, g2
    logits = x @ w[-4] + w[-3]
    token_probabilities = np.exp(logits - logits.max(-1, keepdims=True))
    token_probabilities /= token_probabilities.sum(-1, keepdims=True)
    annotation_probabilities = 1.0 / (1.0 + np.exp(-(g @ w[-2] + w[-1])))
    return {
        "tokens": token_probabilities,
        "annotations": annotation_probabilities,
        "local_features": np.concatenate(local_norms, -1),
        "global_features": np.concatenate(global_norms, -1),
    }


def original_ids(sequence: str, seq_len: int) -> np.ndarray:
    """The original tokenizer: <START> residues <END>, right-padded with <PAD>; unknown letters are <OTHER>."""
    ids = [START] + [LETTERS.index(c) if c in LETTERS else OTHER for c in sequence] + [END]
    return np.array(ids + [PAD] * (seq_len - len(ids)))


# fixtures


def _random_weights(rng: np.random.Generator, **dims) -> list[np.ndarray]:
    weights = []
    for shape in _shapes(**dims):
        scale = 1.0 / math.sqrt(shape[-2]) if len(shape) >= 2 else 0.3
        weights.append((rng.standard_normal(shape) * scale).astype(np.float32))
    return weights


def _write_dump(path: Path, weights: list[np.ndarray], num_annotations: int, step: int = 1234) -> Path:
    moments = [np.zeros_like(weight) for weight in weights]
    with path.open("wb") as handle:
        pickle.dump((num_annotations, weights, [np.int64(step), *moments, *moments]), handle, protocol=3)
    return path


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    dims = {key: SMALL[key] for key in ("d", "g", "heads", "key", "annotations", "blocks", "kernel")}
    weights = _random_weights(np.random.default_rng(0), **dims)
    path = _write_dump(tmp_path_factory.mktemp("dump") / "small_dump.pkl", weights, SMALL["annotations"])
    return path, weights


@pytest.fixture(scope="module")
def converted(dump, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("converted")
    converter.convert(dump[0], out, padding_mode="faithful")
    return out


# equivalence


SEQUENCES = ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQUX", "MSDNELGBPWCHAYRT", "MKV"]


def _compare(model, weights, sequences, seq_len_of, annotations):
    tokenizer = ProteinTokenizer()
    shared_of_original = converter.original_to_shared_ids()
    columns = [shared_of_original[i] for i in range(26)]
    unreachable = sorted(set(range(model.config.vocab_size)) - set(columns))
    worst = 0.0
    for index, sequence in enumerate(sequences):
        seq_len = seq_len_of(sequence)
        encoding = tokenizer([sequence], padding="max_length", max_length=seq_len, return_tensors="pt")
        with torch.no_grad():
            out = model(**encoding, annotations=torch.from_numpy(annotations[index : index + 1]))
            features = model.proteinbert(
                **encoding, annotations=torch.from_numpy(annotations[index : index + 1]), output_features=True
            )
        expected = reference_forward(weights, original_ids(sequence, seq_len), annotations[index], SMALL["dilation"])
        probabilities = out.logits.softmax(-1)[0].double().numpy()
        assert probabilities[:, unreachable].max() == 0.0, "tokens the original lacks must get probability 0"
        for actual, reference in (
            (probabilities[:, columns], expected["tokens"]),
            (torch.sigmoid(out.annotation_logits)[0].double().numpy(), expected["annotations"]),
            (features.local_features[0].double().numpy(), expected["local_features"]),
            (features.global_features[0].double().numpy(), expected["global_features"]),
        ):
            assert actual.shape == reference.shape
            worst = max(worst, float(np.abs(actual - reference).max()))
    return worst


def test_faithful_mode_matches_the_specification_at_a_fixed_padded_length(dump, converted):
    _, weights = dump
    model = ProteinBertForPreTraining.from_pretrained(converted).eval()
    assert model.config.padding_mode == "faithful"
    annotations = (np.random.default_rng(1).random((len(SEQUENCES), SMALL["annotations"])) < 0.3).astype(np.float32)
    worst = _compare(model, weights, SEQUENCES, lambda sequence: 48, annotations)
    assert worst <= 1e-5, f"max abs difference {worst:.2e} against the NumPy reference"


def test_masked_mode_matches_the_specification_run_without_padding(dump, converted):
    """A padded batch in masked mode equals the original run at seq_len = length + 2 (spec section 2.7)."""
    _, weights = dump
    model = ProteinBertForPreTraining.from_pretrained(converted, padding_mode="masked").eval()
    tokenizer = ProteinTokenizer()
    annotations = np.zeros((len(SEQUENCES), SMALL["annotations"]), dtype=np.float32)
    batch = tokenizer(SEQUENCES, padding="max_length", max_length=48, return_tensors="pt")
    with torch.no_grad():
        padded = model(**batch).logits.softmax(-1).double().numpy()
    columns = [converter.original_to_shared_ids()[i] for i in range(26)]
    for index, sequence in enumerate(SEQUENCES):
        length = len(sequence) + 2
        expected = reference_forward(weights, original_ids(sequence, length), annotations[index], SMALL["dilation"])
        assert np.abs(padded[index, :length][:, columns] - expected["tokens"]).max() <= 1e-5
    # faithful mode at the same padded length differs: the original's outputs depend on the padding
    faithful = ProteinBertForPreTraining.from_pretrained(converted).eval()
    with torch.no_grad():
        unmasked = faithful(**batch).logits.softmax(-1).double().numpy()
    assert np.abs(unmasked[2, :5] - padded[2, :5]).max() > 1e-4


def test_conversion_record_and_cli(dump, tmp_path, capsys):
    path, _ = dump
    assert converter.main([str(path), str(tmp_path / "out"), "--padding-mode", "masked"]) == 0
    assert "not the released checkpoint" in capsys.readouterr().out
    record = (tmp_path / "out" / "conversion.json").read_text()
    assert '"optimizer_step": 1234' in record and '"is_released_checkpoint": false' in record
    assert (tmp_path / "out" / "model.safetensors").is_file()
    assert (tmp_path / "out" / "tokenizer_config.json").is_file()


# the released structure


def test_released_layout_has_145_weights_and_15981321_parameters():
    config = ProteinBertConfig()
    layout = converter.keras_weight_layout(config)
    assert len(layout) == 145
    assert sum(math.prod(entry.shape) for entry in layout) == 15_981_321
    assert [entry.shape for entry in layout] == _shapes(
        d=128, g=512, heads=4, key=64, annotations=8943, blocks=6, kernel=9
    )
    assert layout[0].keras_name == "dense-global-input/kernel"
    assert layout[2].keras_name == "embedding-seq-input/embeddings"
    for block in range(6):  # narrow and wide convolutions have equal shapes: only the position tells them apart
        base = 3 + 23 * block
        assert layout[base + 2].keras_name == f"narrow-conv-block{block + 1}/kernel"
        assert layout[base + 4].keras_name == f"wide-conv-block{block + 1}/kernel"
        assert layout[base + 12].keras_name == f"global-dense1-block{block + 1}/kernel"
        assert layout[base + 19].keras_name == f"global-dense2-block{block + 1}/kernel"
    assert [entry.keras_name for entry in layout[141:]] == [
        "output-seq/kernel",
        "output-seq/bias",
        "output-annotations/kernel",
        "output-annotations/bias",
    ]
    # every parameter of the default pretraining model is written once, with its shape
    with torch.device("meta"):
        model = ProteinBertForPreTraining(config)
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    state = converter.convert_weights([np.zeros(entry.shape, np.float32) for entry in layout], config)
    assert {name: tuple(tensor.shape) for name, tensor in state.items()} == expected
    assert sum(math.prod(shape) for shape in expected.values()) == 15_981_321 + 5 * 128 + 5 * 129


def test_token_rows_are_remapped_to_the_shared_vocabulary():
    mapping = converter.shared_to_original_ids()
    vocab = ProteinTokenizer().get_vocab()
    assert mapping[vocab["<pad>"]] == PAD and mapping[vocab["<cls>"]] == START and mapping[vocab["<eos>"]] == END
    for letter in "ACDEFGHIKLMNPQRSTVWYXU":
        assert mapping[vocab[letter]] == LETTERS.index(letter)
    for token in ("<unk>", "<mask>", "O", "B", "Z", "J"):
        assert mapping[vocab[token]] == OTHER


# refused inputs


class _RunsCode:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Evals:
    def __reduce__(self):
        return eval, ("1 + 1",)


@pytest.mark.parametrize("payload", ["os.system", "builtins.eval", "object_array"])
def test_a_pickle_that_would_run_code_is_refused(tmp_path, payload):
    marker = tmp_path / "pwned"
    if payload == "os.system":
        content = (8943, [_RunsCode(marker)], [])
    elif payload == "builtins.eval":
        content = (8943, [np.zeros(3, np.float32)], [_Evals()])
    else:
        content = (8943, [np.array([_Evals()], dtype=object)], [])
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(content, protocol=3))
    with pytest.raises(converter.ProteinBertConversionError, match="refusing"):
        converter.convert(path, tmp_path / "out")
    assert not marker.exists(), "the malicious pickle ran code"
    assert not (tmp_path / "out").exists()


def test_the_released_file_name_with_another_hash_is_refused(tmp_path):
    path = tmp_path / converter.KNOWN_FILE_NAME
    path.write_bytes(b"\x80\x03truncated")
    with pytest.raises(converter.ProteinBertConversionError, match="truncated or corrupted"):
        converter.convert(path, tmp_path / "out")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda n, w, o: {"weights": w}, r"expected the tuple \(n_annotations, model_weights, optimizer_weights\)"),
        (lambda n, w, o: (n, w[:100], o), "holds 100 model weights"),
        (lambda n, w, o: (n + 1, w, o), "declares n_annotations=21"),
        (lambda n, w, o: (n, w, o[:-1]), "optimizer state has 290 entries"),
        (lambda n, w, o: (n, [*w[:5], w[5].reshape(3, 16, 48), *w[6:]], o), r"model weight 5 \(narrow-conv-block1"),
        (lambda n, w, o: (n, [*w[:8], w[8][:-1], *w[9:]], o), r"model weight 8 \(wide-conv-block1/bias\)"),
    ],
)
def test_a_dump_of_another_structure_is_refused(dump, tmp_path, mutate, message):
    _, weights = dump
    moments = [np.zeros_like(weight) for weight in weights]
    content = mutate(SMALL["annotations"], list(weights), [np.int64(1), *moments, *moments])
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps(content, protocol=3))
    with pytest.raises(converter.ProteinBertConversionError, match=message):
        converter.convert(path, tmp_path / "out")
