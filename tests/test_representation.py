"""Representation learning (issue 6): UniRep-style LM generation and recurrence, embeddings (CLI, pipeline, batch
invariance), the protein_fasta / stability / scop builders and the reproduction script's tiny mode."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from proteinhub import load_dataset
from proteinhub.inference.embed import embed_sequences
from proteinhub.inference.embed import main as embed_main
from proteinhub.modeling.autoencoder import CNNAutoencoderConfig, CNNAutoencoderModel
from proteinhub.modeling.unirep import UniRepConfig, UniRepForCausalLM, UniRepModel
from proteinhub.modeling.unirep.modeling_unirep import MLSTMLayer
from proteinhub.tokenization import ProteinTokenizer

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SEQUENCES = ["MKTAYIAKQRQISFVKSHFSRQ", "MKV", "ACDEFGHIKLMNPQRSTVWYACDEF", "GGSWW", "MLLPPQAARRNDE"]


def _tiny(kind: str, seed: int = 0):
    torch.manual_seed(seed)
    if kind == "autoencoder":
        return CNNAutoencoderModel(CNNAutoencoderConfig(sequence_length=32, latent_length=4)).eval()
    return UniRepModel(UniRepConfig(cell=kind, embedding_size=8, hidden_size=16, num_layers=2)).eval()


@pytest.mark.parametrize("kind", ["lstm", "mlstm", "autoencoder"])
def test_batch_composition_does_not_change_an_embedding(kind):
    model = _tiny(kind)
    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
    alone = [embed_sequences(model, tokenizer, [s], per_residue=True) for s in SEQUENCES]
    together, residues = embed_sequences(model, tokenizer, SEQUENCES, batch_size=3, per_residue=True)
    reversed_order, _ = embed_sequences(model, tokenizer, SEQUENCES[::-1], batch_size=2)
    for index, (protein, residue) in enumerate(alone):
        np.testing.assert_allclose(together[index], protein[0], atol=1e-5, rtol=0)
        np.testing.assert_allclose(reversed_order[len(SEQUENCES) - 1 - index], protein[0], atol=1e-5, rtol=0)
        assert residues[index].shape[0] == len(SEQUENCES[index])
        np.testing.assert_allclose(residues[index], residue[0], atol=1e-5, rtol=0)
    assert not np.allclose(together[0], together[1]), "different proteins got the same embedding"


def test_mlstm_layer_follows_the_published_equations():
    """Our vectorised layer against a direct per-step transcription of UniRep's mLSTMCell (float64)."""
    torch.manual_seed(0)
    layer = MLSTMLayer(5, 7).double()
    for parameter in layer.parameters():
        torch.nn.init.normal_(parameter)
    inputs = torch.randn(2, 6, 5, dtype=torch.float64)
    zeros = torch.zeros(2, 7, dtype=torch.float64)
    ours, h_final, _ = layer(inputs, None, zeros, zeros)

    def normalise(weight, gain):
        return weight / weight.norm(dim=0, keepdim=True) * gain

    wx, wh = normalise(layer.wx, layer.gx), normalise(layer.wh, layer.gh)
    wmx, wmh = normalise(layer.wmx, layer.gmx), normalise(layer.wmh, layer.gmh)
    h, c = zeros, zeros
    for t in range(6):
        m = (inputs[:, t] @ wmx) * (h @ wmh)
        i, f, o, u = (inputs[:, t] @ wx + m @ wh + layer.b).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(u)
        h = torch.sigmoid(o) * torch.tanh(c)
        torch.testing.assert_close(ours[:, t], h, rtol=0, atol=1e-12)
    torch.testing.assert_close(h_final, h, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "mlstm"])
def test_generate_samples_until_eos_and_the_state_cache_is_exact(cell):
    torch.manual_seed(0)
    model = UniRepForCausalLM(UniRepConfig(cell=cell, embedding_size=8, hidden_size=16, num_layers=2)).eval()
    greedy = model.generate(max_new_tokens=12, do_sample=False)
    assert torch.equal(greedy, model.generate(max_new_tokens=12, do_sample=False, use_cache=False))
    # make <eos> likely: every sampled protein must stop at its first <eos> and be padded afterwards
    with torch.no_grad():
        model.lm_head.bias[model.config.eos_token_id] += 3.0
    torch.manual_seed(1)
    samples = model.generate(do_sample=True, max_new_tokens=60, num_return_sequences=8)
    assert (samples[:, 0] == model.config.bos_token_id).all()
    ended = 0
    for row in samples.tolist():
        if model.config.eos_token_id in row:
            ended += 1
            after = row[row.index(model.config.eos_token_id) + 1 :]
            assert all(token == model.config.pad_token_id for token in after), row
    assert ended == len(samples), "every sample should reach <eos> within 60 tokens"


def test_representation_and_hidden_states_of_the_language_model():
    torch.manual_seed(0)
    model = UniRepForCausalLM(UniRepConfig(cell="mlstm", embedding_size=8, hidden_size=16, num_layers=2)).eval()
    tokenizer = ProteinTokenizer()
    batch = tokenizer(SEQUENCES[:2], padding=True, return_tensors="pt")
    outputs = model(**batch, output_hidden_states=True)
    assert len(outputs.hidden_states) == 3 and outputs.hidden_states[-1].shape == (2, batch["input_ids"].shape[1], 16)
    # the representation is the mean over <cls> and the residues (UniRep's "average hidden"), not <eos> or padding
    length = len(SEQUENCES[1])
    expected = outputs.hidden_states[-1][1, : length + 1].mean(0)
    torch.testing.assert_close(outputs.pooler_output[1], expected)


def test_embed_cli_and_feature_extraction_pipeline(tmp_path):
    from transformers import pipeline

    model = _tiny("mlstm")
    model.save_pretrained(tmp_path / "model")
    ProteinTokenizer(**model.config.tokenizer_kwargs).save_pretrained(tmp_path / "model")
    fasta = tmp_path / "in.fasta.gz"
    with gzip.open(fasta, "wt") as handle:
        handle.writelines(f">p{i} some description\n{s[:10]}\n{s[10:]}\n" for i, s in enumerate(SEQUENCES))
    for suffix in ("npz", "parquet"):
        out = tmp_path / f"emb.{suffix}"
        args = ["--model", str(tmp_path / "model"), "--fasta", str(fasta), "--out", str(out), "--per-residue"]
        assert embed_main(args) == 0
    saved = np.load(tmp_path / "emb.npz")
    assert saved["ids"].tolist() == [f"p{i}" for i in range(len(SEQUENCES))]
    assert saved["offsets"].tolist() == np.cumsum([0] + [len(s) for s in SEQUENCES]).tolist()
    expected, _ = embed_sequences(model, ProteinTokenizer(), SEQUENCES)
    np.testing.assert_allclose(saved["embeddings"], expected, atol=1e-6)
    import pandas as pd

    frame = pd.read_parquet(tmp_path / "emb.parquet")
    np.testing.assert_allclose(np.stack(frame["embedding"]), expected, atol=1e-6)
    assert len(frame["residue_embeddings"][2]) == len(SEQUENCES[2])

    extractor = pipeline("feature-extraction", model=str(tmp_path / "model"), device="cpu")
    features = np.array(extractor(SEQUENCES[0])[0])  # per token, <cls> and <eos> included
    with torch.no_grad():
        reference = model(**ProteinTokenizer()([SEQUENCES[0]], return_tensors="pt")).last_hidden_state[0]
    np.testing.assert_allclose(features, reference.numpy(), atol=1e-6)


def test_protein_fasta_streams_filters_and_subsamples(tmp_path):
    fasta = tmp_path / "corpus.fasta.gz"
    records = [(f"UniRef50_{i}", "MKV" * (1 + i % 7)) for i in range(200)]
    records += [("has_x", "MKXV"), ("has_b", "MBKV"), ("too_long", "A" * 501), ("lower", "mkvl")]
    with gzip.open(fasta, "wt") as handle:
        handle.writelines(f">{name} n=1\n{sequence}\n" for name, sequence in records)
    full = load_dataset("protein_fasta", data_files=str(fasta), cache_dir=str(tmp_path / "cache"))["train"]
    assert len(full) == 201 and not {"has_x", "has_b", "too_long"} & set(full["id"])
    assert full[len(full) - 1] == {"id": "lower", "sequence": "MKVL"}
    kwargs = {"data_files": str(fasta), "sample_fraction": 0.5, "validation_fraction": 0.2, "seed": 3}
    first = load_dataset("protein_fasta", cache_dir=str(tmp_path / "a"), **kwargs)
    again = load_dataset("protein_fasta", cache_dir=str(tmp_path / "b"), **kwargs)
    other = load_dataset("protein_fasta", cache_dir=str(tmp_path / "c"), **{**kwargs, "seed": 4})
    assert first["train"]["id"] == again["train"]["id"] and first["validation"]["id"] == again["validation"]["id"]
    assert first["train"]["id"] != other["train"]["id"]
    assert not set(first["train"]["id"]) & set(first["validation"]["id"])
    assert 60 < len(first["train"]) + len(first["validation"]) < 140
    capped = load_dataset("protein_fasta", data_files=str(fasta), max_sequences=7, cache_dir=str(tmp_path / "d"))
    assert len(capped["train"]) == 7
    # None means "no limit", also in the same cache as the default (datasets alone would drop the None)
    unlimited = load_dataset("protein_fasta", data_files=str(fasta), max_length=None, cache_dir=str(tmp_path / "cache"))
    assert "too_long" in unlimited["train"]["id"] and len(unlimited["train"]) == 202


def test_stability_and_scop_builders_read_the_real_files(tmp_path):
    stability = load_dataset("stability", data_dir=str(DATA / "stability_tape"), cache_dir=str(tmp_path))
    assert {split: len(ds) for split, ds in stability.items()} == {"train": 53614, "validation": 2512, "test": 12851}
    assert stability["test"].features["label"].dtype == "float32"
    scop = load_dataset("scop", data_dir=str(DATA / "scop_class_proteinbert"), cache_dir=str(tmp_path))
    assert (len(scop["train"]), len(scop["test"])) == (15680, 3921)
    assert scop["train"].features["label"].names == list("abcdefg")
    astral = load_dataset(
        "scop", "scope40", data_dir=str(DATA / "scope40_astral_proteinbachelor"), cache_dir=str(tmp_path)
    )["test"]
    assert len(astral) == 14323 and astral[0]["sccs"] == "a.1.1.1" and astral[0]["sequence"].isupper()
    counts = np.bincount(astral["label"], minlength=7).tolist()
    assert counts == [2540, 2895, 4160, 3462, 279, 272, 715]


def test_reproduction_script_tiny(tmp_path):
    """The CI version of scripts/reproduce_representation.py: every row, the results page and its PNGs."""
    script = REPO / "scripts" / "reproduce_representation.py"
    command = [
        sys.executable,
        str(script),
        "--tiny",
        "--out-dir",
        str(tmp_path),
        "--rows",
        "floor,lstm-lm,cnn-autoencoder",
    ]
    process = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert process.returncode == 0, process.stderr[-3000:]
    floor = json.loads((tmp_path / "floor.json").read_text())
    # a unigram over 20 residues: worse than 20 equally likely letters is impossible for frequencies fit on real data
    assert 14 < floor["cb513_perplexity"] < 20 and 14 < floor["validation_perplexity"] < 20
    assert 0.05 < floor["cb513_accuracy"] < 0.15
    for row in ("floor", "lstm-lm", "cnn-autoencoder"):
        result = json.loads((tmp_path / f"{row}.json").read_text())
        assert -1 <= result["stability_spearman_test"] <= 1 and 0 <= result["scop_knn_accuracy"] <= 1
        assert (tmp_path / result["tsne_png"]).stat().st_size > 1000
    page = (tmp_path / "representation.md").read_text()
    assert "| lstm-lm |" in page and "reconstruction accuracy" in page
    assert "floor: unigram fit on the stand-in corpus" in page and "Below the composition floor" in page
