"""ProteinBERT beyond the common battery: parameter count, padding modes, bad input, the pretraining objective and a
tiny pretraining run, the staged fine-tuning schedule, LoRA fractions, the `ptm` builder and the reproduction script.

The converter and its equivalence with the specification are in test_proteinbert_convert.py.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from proteinhub import ProteinTokenizer, load_dataset
from proteinhub.dataset_scripts.formats import DatasetFormatError
from proteinhub.modeling.proteinbert import (
    ProteinBertConfig,
    ProteinBertForPreTraining,
    ProteinBertForTokenClassification,
    ProteinBertModel,
)
from proteinhub.modeling.proteinbert.modeling_proteinbert import pretraining_loss
from proteinhub.tokenization.tokenization_protein import VOCAB
from proteinhub.training import pretraining as pt

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
CAPSNET = SHARED_DATA / "ptm_residue_capsnet_uniprot"
TINY = {
    "hidden_size": 16,
    "global_hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "attention_key_size": 8,
    "num_annotations": 12,
}
SEQUENCES = ["MKTAYIAKQRQISFVKSHFSRQ", "MLSDKKGQ", "MKV"]


def _batch(sequences=SEQUENCES, **kwargs):
    return ProteinTokenizer()(sequences, padding=True, return_tensors="pt", **kwargs)


# architecture


@pytest.mark.parametrize(
    ("vocab_size", "expected"),
    [(26, 15_981_321), (31, 15_981_321 + 5 * 128 + 5 * (128 + 1))],  # original vocabulary / shared vocabulary
)
def test_default_config_reproduces_the_original_parameter_count(vocab_size, expected):
    with torch.device("meta"):
        model = ProteinBertForPreTraining(ProteinBertConfig(vocab_size=vocab_size))
    assert sum(parameter.numel() for parameter in model.parameters()) == expected


def test_masked_mode_ignores_padding_and_faithful_mode_does_not():
    torch.manual_seed(0)
    model = ProteinBertModel(ProteinBertConfig(**TINY)).eval()
    alone = _batch(SEQUENCES[2:])
    encoding = ProteinTokenizer()(SEQUENCES[2:], padding="max_length", max_length=40, return_tensors="pt")
    with torch.no_grad():
        masked_alone, masked_padded = model(**alone), model(**encoding)
        model.config.padding_mode = "faithful"
        faithful_alone, faithful_padded = model(**alone), model(**encoding)
    length = alone["input_ids"].shape[1]
    torch.testing.assert_close(masked_padded.last_hidden_state[:, :length], masked_alone.last_hidden_state)
    torch.testing.assert_close(masked_padded.pooler_output, masked_alone.pooler_output)
    # the original has no padding mask: the <pad> tokens change the outputs (spec section 2.7)
    assert (faithful_padded.pooler_output - faithful_alone.pooler_output).abs().max() > 1e-3
    torch.testing.assert_close(faithful_alone.pooler_output, masked_alone.pooler_output)


def test_concatenated_features_have_the_original_layout():
    config = ProteinBertConfig(**TINY, classifier_features="concat", num_labels=2)
    model = ProteinBertModel(config).eval()
    with torch.no_grad():
        out = model(**_batch(), output_features=True, output_hidden_states=True, output_attentions=True)
    d, g, layers = TINY["hidden_size"], TINY["global_hidden_size"], TINY["num_hidden_layers"]
    assert out.local_features.shape[-1] == 2 * layers * d
    assert out.global_features.shape[-1] == (1 + 2 * layers) * g
    torch.testing.assert_close(out.local_features[..., -d:], out.last_hidden_state)  # last norm of the last block
    torch.testing.assert_close(out.global_features[:, -g:], out.pooler_output)
    assert len(out.attentions) == layers and out.attentions[0].shape == (3, 2, out.last_hidden_state.shape[1])
    torch.testing.assert_close(out.attentions[0].sum(-1), torch.ones(3, 2))
    assert config.local_feature_size == 2 * layers * d + 31 and config.global_feature_size == (1 + 2 * layers) * g + 12
    # the released sizes: 1536 + 26 (original vocabulary) and 15,599 per protein
    released = ProteinBertConfig(classifier_features="concat", vocab_size=26)
    assert (released.local_feature_size, released.global_feature_size) == (1562, 15599)


def test_token_head_prunes_the_last_global_update_and_loads_a_pretraining_checkpoint(tmp_path):
    torch.manual_seed(0)
    pretrained = ProteinBertForPreTraining(ProteinBertConfig(**TINY))
    pretrained.save_pretrained(tmp_path)
    model = ProteinBertForTokenClassification.from_pretrained(tmp_path, num_labels=2, classifier_features="concat")
    assert not hasattr(model.proteinbert.layers[-1], "attention") and hasattr(model.proteinbert.layers[0], "attention")
    torch.testing.assert_close(model.lm_head.weight, pretrained.lm_head.weight)  # the concat features need it
    torch.testing.assert_close(model.proteinbert.embed_tokens.weight, pretrained.proteinbert.embed_tokens.weight)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, b: m(**b, annotations=torch.zeros(3, 7)), r"annotations have shape \(3, 7\).*\(3, 12\)"),
        (lambda m, b: m(input_ids=b["input_ids"], inputs_embeds=torch.zeros(3, 5, 16)), "exactly one"),
        (lambda m, b: m(**_batch(["M" * 40])), "at most max_length=32"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(call, message):
    model = ProteinBertModel(ProteinBertConfig(**TINY, max_length=32)).eval()
    with pytest.raises(ValueError, match=message):
        call(model, _batch())


def test_the_models_tokenizer_crops_long_proteins_with_a_warning():
    config = ProteinBertConfig(**TINY, max_length=32)
    tokenizer = ProteinTokenizer(**config.tokenizer_kwargs)
    with pytest.warns(UserWarning, match="truncat"):
        encoding = tokenizer(["M" * 40], truncation=True, return_tensors="pt")
    assert encoding["input_ids"].shape[1] == 32
    ProteinBertModel(config).eval()(**encoding)


# pretraining objective


def test_pretraining_loss_uses_the_original_normalisation():
    torch.manual_seed(0)
    logits, annotation_logits = torch.randn(2, 5, 31), torch.randn(2, 4)
    labels = torch.tensor([[2, 7, 8, 3, -100], [2, 9, 3, -100, -100]])
    annotation_labels = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])  # protein 2 has none
    total, token, annotation = pretraining_loss(logits, labels, annotation_logits, annotation_labels)
    scored = labels != -100
    token_sum = torch.nn.functional.cross_entropy(logits[scored], labels[scored], reduction="sum")
    assert torch.isclose(token, token_sum / 10)  # batch x length, padding included
    first = torch.nn.functional.binary_cross_entropy_with_logits(annotation_logits[0], annotation_labels[0])
    assert torch.isclose(annotation, first / 2)  # the unannotated protein counts in the batch size only
    assert torch.isclose(total, token + annotation)


def test_token_corruption_follows_the_original():
    generator = torch.Generator().manual_seed(0)
    clean = torch.full((400, 500), VOCAB["A"])
    noisy = pt.corrupt_tokens(clean, 0.05, generator)
    changed = noisy != clean
    # replaced with p = 0.05 by one of 26 tokens, one of which is "A" itself
    assert math.isclose(changed.float().mean().item(), 0.05 * 25 / 26, rel_tol=0.03)
    assert set(noisy.unique().tolist()) == set(pt.original_token_ids().tolist())
    assert not {VOCAB["<mask>"], VOCAB["B"], VOCAB["Z"], VOCAB["O"], VOCAB["J"]} & set(noisy.unique().tolist())


def test_annotation_corruption_follows_the_original():
    generator = torch.Generator().manual_seed(0)
    targets = torch.zeros(20_000, 300)
    targets[:, :30] = 1.0
    noisy = pt.corrupt_annotations(targets, pt.PretrainingNoise(), generator)
    with_input = noisy.any(-1)
    assert math.isclose(with_input.float().mean().item(), 0.5, abs_tol=0.02)
    kept = noisy[with_input][:, :30].mean().item()
    added = noisy[with_input][:, 30:].mean().item()
    assert math.isclose(kept, 0.75, abs_tol=0.01) and math.isclose(added, 1e-4, rel_tol=0.2)


def test_collator_crops_pads_and_labels():
    collator = pt.ProteinBertPretrainingCollator(num_annotations=5, noise=pt.PretrainingNoise(token_noise=0.0))
    long, short = list(range(5, 25)) * 2, [2, 5, 6, 3]
    batch = collator(
        [{"input_ids": long, "annotation_ids": [1, 4], "seq_len": 16}, {"input_ids": short, "annotation_ids": []}]
    )
    assert batch["input_ids"].shape == (2, 16)
    window = batch["labels"][0].tolist()
    start = [i for i in range(len(long) - 15) if long[i : i + 16] == window]
    assert start, "the long protein must be a contiguous window of its tokens"
    assert batch["labels"][1].tolist() == short + [-100] * 12
    assert batch["attention_mask"][1].tolist() == [1] * 4 + [0] * 12
    assert batch["input_ids"][1, 4:].eq(VOCAB["<pad>"]).all()
    assert batch["annotation_labels"].tolist() == [[0, 1, 0, 0, 1], [0, 0, 0, 0, 0]]
    with pytest.raises(ValueError, match="annotation index 7.*num_annotations=5"):
        collator([{"input_ids": short, "annotation_ids": [7]}])


def test_episode_sampler_routes_proteins_by_length():
    probabilities = pt.episode_probabilities(130, pt.ORIGINAL_EPISODES)
    expected = np.exp(-np.array([130 / 128, 512 / 130, 1024 / 130]))
    np.testing.assert_allclose(probabilities, expected / expected.sum())
    lengths = [60] * 300 + [500] * 100 + [1500] * 50
    sampler = pt.EpisodeBatchSampler(lengths, pt.ORIGINAL_EPISODES, batches_per_episode=2, seed=0)
    batches = list(sampler)
    seen = [index for batch in batches for index, _ in batch]
    assert sorted(seen) == list(range(len(lengths))), "one pass visits every protein once"
    sizes = dict(pt.ORIGINAL_EPISODES)
    for batch in batches:
        (seq_len,) = {key[1] for key in batch}
        assert len(batch) <= sizes[seq_len]
    episode_of = {index: seq_len for batch in batches for index, seq_len in batch}
    assert np.mean([episode_of[i] == 128 for i in range(300)]) > 0.8  # short proteins go to the short episode
    assert np.mean([episode_of[i] == 1024 for i in range(400, 450)]) > 0.5


def test_tiny_pretraining_run(tmp_path):
    from proteinhub import training

    fasta = tmp_path / "corpus.fasta"
    fasta.write_text("".join(f">p{i}\n{'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ'[i:] * 3}\n" for i in range(12)))
    table = tmp_path / "go.tsv"
    table.write_text("id\tannotations\n" + "".join(f"p{i}\tGO:1,GO:{2 + i % 3}\n" for i in range(12)))
    metrics = training.main(
        [
            "--config",
            str(REPO / "configs" / "proteinbert" / "pretrain_tiny.yaml"),
            "--data_files",
            str(fasta),
            "--objective_kwargs",
            json.dumps({"annotation_table": str(table), "min_annotation_records": 4, "episodes": [[64, 8], [128, 4]]}),
            "--validation_fraction",
            "0",  # the annotation vector is counted on the training proteins: keep all 12
            "--max_steps",
            "4",
            "--cache_dir",
            str(tmp_path / "cache"),
            "--output_dir",
            str(tmp_path / "out"),
        ]
    )
    assert metrics["train"]["global_steps"] == 4 and math.isfinite(metrics["train"]["loss"])
    assert json.loads((tmp_path / "out" / "annotations.json").read_text()) == ["GO:1", "GO:2", "GO:3", "GO:4"]
    model = ProteinBertForPreTraining.from_pretrained(tmp_path / "out")
    assert model.config.num_annotations == 4


# fine-tuning


def _tokenized_residue_dataset(lengths):
    from datasets import Dataset

    tokenizer = ProteinTokenizer()
    rows = []
    for index, length in enumerate(lengths):
        sequence = ("MKTAYIAKQRQISFVKSHFSRQ" * 10)[index : index + length]
        ids = tokenizer(sequence)["input_ids"]
        labels = [-100] + [int(c == "K") for c in sequence] + [-100]
        rows.append({"input_ids": ids, "labels": labels})
    return Dataset.from_list(rows)


def test_staged_fine_tuning_freezes_then_unfreezes_and_drops_long_proteins(tmp_path):
    from proteinhub.training.finetuning import Stage, run_staged_fine_tuning
    from transformers import DataCollatorForTokenClassification

    torch.manual_seed(0)
    model = ProteinBertForTokenClassification(ProteinBertConfig(**TINY, num_labels=2))
    data = _tokenized_residue_dataset([10, 12, 14, 30, 40, 60])
    before = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}
    stages = (
        Stage(train_head_only=True, max_length=32, batch_size=2, learning_rate=1e-2, max_epochs=1),
        Stage(train_head_only=False, max_length=64, batch_size=2, learning_rate=1e-5, max_epochs=1),
    )
    collator = DataCollatorForTokenClassification(ProteinTokenizer())
    summaries = run_staged_fine_tuning(
        model, data, data, collator=collator, output_dir=tmp_path, stages=stages[:1], use_cpu=True
    )
    changed = {name for name, parameter in model.named_parameters() if not torch.equal(parameter, before[name])}
    assert changed == {"classifier.out_proj.weight", "classifier.out_proj.bias"}
    assert summaries[0]["train_proteins"] == 4  # the two proteins longer than 32 tokens are dropped, not cropped
    assert all(parameter.requires_grad for parameter in model.parameters()), "the model is left trainable"
    summaries = run_staged_fine_tuning(
        model, data, data, collator=collator, output_dir=tmp_path, stages=stages[1:], use_cpu=True
    )
    assert summaries[0]["train_proteins"] == 6
    assert not torch.equal(model.proteinbert.embed_tokens.weight, before["proteinbert.embed_tokens.weight"])


@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")
def test_lora_wraps_dense_narrow_conv_and_attention_projections():
    from peft import LoraConfig, get_peft_model
    from proteinhub.modeling import FAMILIES

    with torch.device("meta"):
        model = ProteinBertForTokenClassification(ProteinBertConfig(num_labels=2))
    family = FAMILIES["proteinbert"]
    peft_model = get_peft_model(
        model, LoraConfig(r=8, lora_alpha=16, target_modules=family.lora_target_regex, modules_to_save=["classifier"])
    )
    wrapped = {name.split(".")[-1] for name, module in peft_model.named_modules() if hasattr(module, "lora_A")}
    assert wrapped == {"global_to_local", "narrow_conv", "local_dense", "global_dense1", "global_dense2"} | {
        "query",
        "key",
        "value",
    }
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in peft_model.parameters())
    # LoRA A/B of 6 blocks (the last without its global update) plus the 258-parameter head
    assert 0.01 < trainable / total < 0.03, f"{trainable:,} of {total:,}"


# the ptm builder


@pytest.fixture()
def capsnet_dir(tmp_path) -> Path:
    if not CAPSNET.is_dir():
        pytest.skip(f"{CAPSNET} is not available")
    folder = tmp_path / "capsnet" / "SUMOylation"
    folder.mkdir(parents=True)
    for source in (CAPSNET / "SUMOylation").iterdir():
        shutil.copy(source, folder / source.name)
    return tmp_path / "capsnet"


def test_ptm_capsnet_files(capsnet_dir, tmp_path):
    ds = load_dataset("ptm", "SUMOylation", data_dir=capsnet_dir, cache_dir=tmp_path / "cache")
    assert {split: len(ds[split]) for split in ds} == {"train": 220, "test": 60}
    labels = np.concatenate([np.asarray(x) for x in ds["test"]["labels"]])
    assert (labels.size, int(labels.sum())) == (30_242, 108)  # the data README's counts
    masked = load_dataset("ptm", "SUMOylation", data_dir=capsnet_dir, cache_dir=tmp_path / "cache", candidate_mask=True)
    for example in masked["test"]:
        for residue, label in zip(example["sequence"], example["labels"]):
            assert (label == -100) == (residue != "K")
    counts = load_dataset("ptm", "SUMOylation", data_dir=capsnet_dir, cache_dir=tmp_path / "cache", target="count")
    assert sum(counts["test"]["label"]) == 108.0


def test_ptm_validation_split_keeps_ortholog_groups_together(capsnet_dir, tmp_path):
    from proteinhub.dataset_scripts.ptm import ortholog_group

    assert ortholog_group("sp|P11230|ACHB_HUMAN") == ortholog_group("sp|P09690|ACHB_MOUSE") == "ACHB"
    ds = load_dataset("ptm", "SUMOylation", data_dir=capsnet_dir, cache_dir=tmp_path / "cache", validation_fraction=0.2)
    assert len(ds["train"]) + len(ds["validation"]) == 220 and 0.2 <= len(ds["validation"]) / 220 < 0.3
    train_groups = {ortholog_group(protein) for protein in ds["train"]["id"]}
    assert not train_groups & {ortholog_group(protein) for protein in ds["validation"]["id"]}
    assert len(ds["test"]) == 60


def _yaam_files(tmp_path, sites: str) -> dict:
    (tmp_path / "proteins.fasta").write_text(">YAL001C\nMSTKSQLSE\n>YAL002W\nMKSLLSTY\n")
    (tmp_path / "sites.tsv").write_text(sites)
    return {"train": [str(tmp_path / "proteins.fasta"), str(tmp_path / "sites.tsv")]}


def test_ptm_yaam_site_table(tmp_path):
    sites = (
        "id\tposition\tresidue\tmodification\nYAL001C\t2\tS\tPhosphorylation\nYAL001C\t4\tK\tAcetylation\n"
        "YAL002W\t7\tT\tPhosphorylation\n"
    )
    files = _yaam_files(tmp_path, sites)
    ds = load_dataset("ptm", "yaam", data_files=files, cache_dir=tmp_path / "cache", split="train")
    assert ds["labels"] == [[0, 1, 0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1, 0]]
    phospho = load_dataset(
        "ptm", "yaam", data_files=files, cache_dir=tmp_path / "cache", split="train",
        modification="Phosphorylation", candidate_residues="ST", candidate_mask=True,
    )  # fmt: skip
    assert phospho["labels"][0] == [-100, 1, 0, -100, 0, -100, -100, 0, -100]


@pytest.mark.parametrize(
    ("sites", "message"),
    [
        ("id\tposition\nYAL001C\t12\n", r"position 12 is outside the protein \(1..9\)"),
        ("id\tposition\tresidue\nYAL001C\t2\tK\n", "says residue K at position 2, the sequence has S"),
        ("id\tposition\nYBR999W\t2\n", "no protein with this id"),
        ("id\tsite\nYAL001C\t2\n", r"missing column\(s\) \['position'\]"),
    ],
)
def test_ptm_yaam_bad_sites_are_refused(tmp_path, sites, message):
    with pytest.raises(DatasetFormatError, match=message):
        load_dataset("ptm", "yaam", data_files=_yaam_files(tmp_path, sites), cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    ("sequence", "message"),
    [("#MKK", "starts with '#'"), ("MK##K", "marked twice"), ("MKA#", "is not a candidate residue")],
)
def test_ptm_capsnet_bad_marks_are_refused(tmp_path, sequence, message):
    folder = tmp_path / "data" / "SUMOylation"
    folder.mkdir(parents=True)
    for name in ("metazoa_sequence_annotated_training_0.fasta", "metazoa_sequences_cross_testing_annotated_0.fasta"):
        (folder / name).write_text(f">sp|P1|X\n{sequence}\n")
    with pytest.raises(DatasetFormatError, match=message):
        load_dataset("ptm", "SUMOylation", data_dir=tmp_path / "data", cache_dir=tmp_path / "c", candidate_mask=True)


# the reproduction script


def test_reproduction_script_tiny_mode(tmp_path):
    if not CAPSNET.is_dir():
        pytest.skip(f"{CAPSNET} is not available")
    script = REPO / "scripts" / "reproduce_proteinbert.py"
    spec = importlib.util.spec_from_file_location("reproduce_proteinbert", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = tmp_path / "page.md"
    steps = ["floor_s_palmitoylation", "ptm_s_palmitoylation_weighted"]
    assert module.main(["--tiny", "--runs-dir", str(tmp_path / "runs"), "--page", str(page), "--only", *steps]) == 0
    record = json.loads((tmp_path / "runs" / "results" / "ptm_s_palmitoylation_weighted.json").read_text())
    assert 0.0 <= record["test"]["roc_auc"] <= 1.0 and record["class_weights"][1] > record["class_weights"][0]
    text = page.read_text()
    assert "| ProteinBERT, reduced, random init | balanced class weights | " in text
    assert "not run" in text  # the other rows of the table
