"""`proteinhub predict` beyond phosphosites (issue 5) and per-protein embeddings (issue 6).

predict: sequence classification (the localization CNN+BiLSTM) against transformers' text-classification pipeline,
token classification (secondary structure, long proteins in windows) against the `secondary-structure` pipeline,
regression against the model itself, streaming, and bad input. embed: the `protein-feature-extraction` pipeline and
`proteinhub embed` (per-protein = masked mean of the per-residue vectors; batch composition changes nothing) on
every backbone family. The phosphosite site table is tested in tests/test_phosphosite.py.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import proteinhub.inference.pipelines  # noqa: F401  (registers the pipeline tasks)
import pytest
import torch
from proteinhub import ProteinTokenizer, build_preset, cli
from proteinhub.inference import embed, predict
from proteinhub.inference.pipelines import ProteinPredictor
from proteinhub.modeling.cnn import ProteinCNNConfig, ProteinCNNForSequenceClassification, ProteinCNNModel
from proteinhub.modeling.localization import LocalizationConfig, LocalizationForSequenceClassification
from proteinhub.modeling.secondary_structure import SecondaryStructureConfig, SecondaryStructureForTokenClassification
from transformers import pipeline

LOCATIONS = ["Nucleus", "Cytoplasm", "Extracellular", "Mitochondrion", "Cell membrane"]
PROTEINS = {
    "P1": "MKTAYIAKQRQISFVKSHFSRQLEEKLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDE",
    "one": "M",  # shorter than the localization convolutions' receptive field (7)
    "two": "MK*",  # a trailing stop is not a residue
    "lower": "mktayiakqr",
    "P5": "GSHMSLFDFFKNKGSAAATATPPTSADSAAGSTAAPAAKSSSDSADKPKPEPSSSGSSSGQ",
}


def _save(model, folder):
    model.save_pretrained(folder)
    ProteinTokenizer(**model.config.tokenizer_kwargs).save_pretrained(folder)
    return folder


def _labels(names):
    return {
        "num_labels": len(names),
        "id2label": dict(enumerate(names)),
        "label2id": {n: i for i, n in enumerate(names)},
    }


@pytest.fixture(scope="module")
def localization_dir(tmp_path_factory):
    torch.manual_seed(0)
    config = LocalizationConfig(num_filters=4, lstm_hidden_size=5, dense_size=8, max_residues=40, **_labels(LOCATIONS))
    return _save(LocalizationForSequenceClassification(config).eval(), tmp_path_factory.mktemp("localization"))


@pytest.fixture(scope="module")
def structure_dir(tmp_path_factory):
    """A token-level model with max_length 22: proteins longer than 20 residues are predicted in windows."""
    torch.manual_seed(0)
    config = SecondaryStructureConfig(
        embedding_size=8, rnn_hidden_size=8, num_rnn_layers=2, hidden_size=12, classifier_hidden_size=10, max_length=22
    )
    return _save(SecondaryStructureForTokenClassification(config).eval(), tmp_path_factory.mktemp("structure"))


@pytest.fixture(scope="module")
def fasta(tmp_path_factory):
    path = tmp_path_factory.mktemp("fasta") / "proteins.fasta"
    path.write_text("".join(f">{name} a description\n{sequence}\n" for name, sequence in PROTEINS.items()))
    return path


def _predict(*options) -> list[list[str]]:
    """Run `proteinhub predict` through the console-script entry point; the TSV as rows of cells."""
    out = options[options.index("--out") + 1]
    assert cli.main(["predict", *map(str, options), "--no-progress"]) == 0
    with open(out) as handle:
        return [line.rstrip("\n").split("\t") for line in handle]


def _clean(sequence: str) -> str:
    return sequence.upper().removesuffix("*")


# predict: sequence classification


def test_localization_rows_equal_the_text_classification_pipeline(localization_dir, fasta, tmp_path):
    out = tmp_path / "locations.tsv"
    # batches of 2, sorted by length inside the group: the rows must still come in file order
    with pytest.warns(UserWarning, match="cut to 40"):
        rows = _predict("--model", localization_dir, "--fasta", fasta, "--out", out, "--batch-size", 2)
    assert rows[0] == ["id", "length", "label", "probability", "label_2", "probability_2", "label_3", "probability_3"]
    assert [row[0] for row in rows[1:]] == list(PROTEINS)
    assert [int(row[1]) for row in rows[1:]] == [len(_clean(s)) for s in PROTEINS.values()]
    classify = pipeline("text-classification", model=str(localization_dir), device="cpu")
    for row, sequence in zip(rows[1:], PROTEINS.values()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # P1 is cut to 40 residues by the model, with a warning
            expected = classify(_clean(sequence), top_k=3)
        assert row[2::2] == [prediction["label"] for prediction in expected]
        np.testing.assert_allclose([float(p) for p in row[3::2]], [p["score"] for p in expected], atol=1e-5)

    all_rows = _predict("--model", localization_dir, "--fasta", fasta, "--out", out, "--all-scores")
    assert all_rows[0] == ["id", "length", "label", "probability", *(f"probability_{name}" for name in LOCATIONS)]
    for row, top in zip(all_rows[1:], rows[1:]):
        scores = np.array(row[4:], dtype=float)
        assert row[2] == top[2] == LOCATIONS[int(scores.argmax())]
        np.testing.assert_allclose(scores.sum(), 1.0, atol=1e-5)
    two = _predict("--model", localization_dir, "--fasta", fasta, "--out", out, "--top-k", "1")
    assert two[0] == ["id", "length", "label", "probability"] and [r[2] for r in two[1:]] == [r[2] for r in rows[1:]]


def test_regression_rows_hold_the_predicted_value(tmp_path, fasta):
    torch.manual_seed(0)
    config = ProteinCNNConfig(embedding_size=8, hidden_size=16, num_layers=2, num_labels=1, problem_type="regression")
    model = _save(ProteinCNNForSequenceClassification(config).eval(), tmp_path / "stability")
    rows = _predict("--model", model, "--fasta", fasta, "--out", tmp_path / "values.tsv")
    assert rows[0] == ["id", "length", "value"]
    reference = ProteinCNNForSequenceClassification.from_pretrained(model).eval()
    tokenizer = ProteinTokenizer(**config.tokenizer_kwargs)
    with torch.no_grad():
        expected = [reference(**tokenizer([_clean(s)], return_tensors="pt")).logits.item() for s in PROTEINS.values()]
    np.testing.assert_allclose([float(row[2]) for row in rows[1:]], expected, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="is a regression model"):
        predict.main(["--model", str(model), "--fasta", str(fasta), "--out", str(tmp_path / "o.tsv"), "--top-k", "2"])


# predict: token classification


def test_secondary_structure_rows_equal_the_secondary_structure_pipeline(structure_dir, fasta, tmp_path):
    rows = _predict("--model", structure_dir, "--fasta", fasta, "--out", tmp_path / "ss.tsv", "--batch-size", 3)
    assert rows[0] == ["id", "length", "labels", "mean_probability"]
    predict_structure = pipeline("secondary-structure", model=str(structure_dir), device="cpu")
    for row, sequence in zip(rows[1:], PROTEINS.values()):
        expected = predict_structure(_clean(sequence))  # P1 and P5 span several 20-residue windows
        assert row[2] == expected["secondary_structure"] and len(row[2]) == int(row[1])
        np.testing.assert_allclose(float(row[3]), np.mean(expected["scores"]), atol=1e-5)
    assert len(predict_structure(_clean(PROTEINS["P1"]))["chunks"]) > 2


def test_single_logit_token_model_writes_two_states(tmp_path, fasta):
    torch.manual_seed(0)
    config = SecondaryStructureConfig(
        embedding_size=8,
        rnn_hidden_size=8,
        num_rnn_layers=1,
        hidden_size=12,
        classifier_hidden_size=10,
        **_labels(["disordered"]),
    )
    model = SecondaryStructureForTokenClassification(config).eval()
    predictor = ProteinPredictor(model)
    assert predictor.labels == ("not disordered", "disordered")
    sequence = PROTEINS["P5"]
    prediction = next(predictor.predict([("p", sequence)]))
    with torch.no_grad():
        logits = model(**ProteinTokenizer()([sequence], return_tensors="pt")).logits[0, 1:-1, 0]
    np.testing.assert_allclose(prediction.scores[:, 1], torch.sigmoid(logits).numpy(), atol=1e-6)
    rows = _predict("--model", _save(model, tmp_path / "m"), "--fasta", fasta, "--out", tmp_path / "d.tsv")
    expected = "".join("D" if p > 0.5 else "N" for p in torch.sigmoid(logits).tolist())
    assert rows[-1][0] == "P5" and rows[-1][2] == expected


@pytest.mark.parametrize(
    ("labels", "symbols"),
    [(["H", "E", "C"], "HEC"), (["helix", "strand", "coil"], "HSC"), (["ordered", "other"], "01"), (["a", ""], "01")],
)
def test_label_symbols(labels, symbols):
    assert predict.label_symbols(labels) == symbols


def test_label_symbols_need_distinct_letters_beyond_ten_classes():
    with pytest.raises(ValueError, match="share first letters"):
        predict.label_symbols([f"class_{i}" for i in range(11)])


# predict: streaming and bad input


def test_predictor_streams():
    model = LocalizationForSequenceClassification(LocalizationConfig(num_filters=2, lstm_hidden_size=2, dense_size=2))
    endless = ((f"p{index}", "MKTAYIAK"[: 1 + index % 8]) for index in itertools.count())
    predictions = ProteinPredictor(model, batch_size=2, sort_batches=2).predict(endless)
    first = list(itertools.islice(predictions, 5))  # returns although the input never ends
    assert [p.id for p in first] == ["p0", "p1", "p2", "p3", "p4"] and [p.length for p in first] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("model", "content", "message"),
    [
        (
            "localization",
            ">ok\nMKTAY\n>broken\nMKT-AY\n",
            r"record 2 \('broken'\): invalid character '-' at position 4",
        ),
        ("localization", ">ok\nMKTAY\n>empty\n\n>ok2\nMK\n", r"record 2 \('empty'\): empty sequence"),
        ("localization", ">stop\n*\n", r"record 1 \('stop'\): empty sequence"),
        # the error is found in the third 20-residue window (residues 31-50): its position counts from residue 1
        (
            "structure",
            ">long\n" + "A" * 45 + "1" + "A" * 20 + "\n",
            r"record 1 \('long'\): invalid character '1' at position 46",
        ),
    ],
)
def test_bad_records_name_the_protein_and_position(model, content, message, request, tmp_path):
    bad = tmp_path / "bad.fasta"
    bad.write_text(content)
    folder = request.getfixturevalue(f"{model}_dir")
    with pytest.raises(ValueError, match=message):
        predict.main(["--model", str(folder), "--fasta", str(bad), "--out", str(tmp_path / "o.tsv"), "--no-progress"])


def test_empty_fasta_gives_the_header_only(localization_dir, tmp_path):
    empty = tmp_path / "empty.fasta"
    empty.write_text("")
    rows = _predict("--model", localization_dir, "--fasta", empty, "--out", tmp_path / "o.tsv")
    assert rows == [["id", "length", "label", "probability", "label_2", "probability_2", "label_3", "probability_3"]]


@pytest.mark.parametrize(
    ("model", "options", "message"),
    [
        ("localization", ["--threshold", "0.9"], "--threshold applies to site-level models only"),
        ("localization", ["--residues", "S"], "--residues applies to site-level models only"),
        ("structure", ["--top-k", "2"], "--top-k applies to protein-level models only"),
        ("structure", ["--all-scores"], "--all-scores applies to protein-level models only"),
        ("localization", ["--top-k", "0"], "--top-k must be at least 1"),
        ("backbone", [], r"holds ProteinCNNModel: .* use `proteinhub embed`"),
    ],
)
def test_options_and_models_that_do_not_fit(model, options, message, request, fasta, tmp_path):
    if model == "backbone":
        folder = _save(ProteinCNNModel(ProteinCNNConfig(embedding_size=4, hidden_size=8, num_layers=1)), tmp_path / "b")
    else:
        folder = request.getfixturevalue(f"{model}_dir")
    args = ["--model", str(folder), "--fasta", str(fasta), "--out", str(tmp_path / "o.tsv"), *options]
    with pytest.raises(ValueError, match=message):
        predict.main(args)


# embed: protein-feature-extraction and proteinhub embed


def _backbone_cases(model_testers):
    return [
        case for case in model_testers.model_cases() if case.head is None and case.require_tester().padding_invariant
    ]


def test_feature_extraction_is_the_masked_residue_mean_and_batch_invariant(model_testers):
    cases = _backbone_cases(model_testers)
    assert {case.family.model_type for case in cases} >= {"protein_cnn", "proteinbert", "unirep", "cnn_autoencoder"}
    for case in cases:
        model, tokenizer = case.model(), case.tokenizer()
        extract = pipeline("protein-feature-extraction", model=model, tokenizer=tokenizer, device="cpu")
        short, longer = sorted(case.sequences, key=len)[0], sorted(case.sequences, key=len)[-1]
        alone = extract(short, per_residue=True)
        batched = extract([short, longer], per_residue=True, batch_size=2)  # one padded batch
        with torch.no_grad():
            hidden = model(**tokenizer([short], return_tensors="pt")).last_hidden_state[0]
        residues = hidden[tokenizer.num_leading_special_tokens :][: len(short)].numpy()
        np.testing.assert_allclose(alone["residue_embeddings"], residues, atol=1e-5, err_msg=case.id)
        np.testing.assert_allclose(alone["embedding"], residues.mean(0), atol=1e-5, err_msg=case.id)
        np.testing.assert_allclose(batched[0]["embedding"], alone["embedding"], atol=1e-5, err_msg=case.id)
        np.testing.assert_allclose(batched[0]["residue_embeddings"], residues, atol=1e-5, err_msg=case.id)
        assert batched[1]["residue_embeddings"].shape == (len(longer), residues.shape[1]), case.id
        assert not np.allclose(batched[0]["embedding"], batched[1]["embedding"]), case.id
        assert set(extract(short)) == {"embedding"} and alone["embedding"].dtype == np.float32


def test_pooler_option_and_the_stock_feature_extraction_task(model_testers):
    cases = {case.family.model_type: case for case in _backbone_cases(model_testers)}
    unirep, cnn = cases["unirep"], cases["protein_cnn"]
    model, tokenizer = unirep.model(), unirep.tokenizer()
    extract = pipeline("protein-feature-extraction", model=model, tokenizer=tokenizer, device="cpu")
    sequence = unirep.sequences[0]
    with torch.no_grad():
        outputs = model(**tokenizer([sequence], return_tensors="pt"))
    np.testing.assert_allclose(extract(sequence, pooling="pooler")["embedding"], outputs.pooler_output[0], atol=1e-6)
    with pytest.raises(ValueError, match="has no pooler_output"):
        pipeline("protein-feature-extraction", model=cnn.model(), tokenizer=cnn.tokenizer())("MKV", pooling="pooler")
    with pytest.raises(ValueError, match="pooling must be one of"):
        extract(sequence, pooling="max")
    # transformers' own task is untouched: one vector per token, <cls> and <eos> included
    stock = np.array(pipeline("feature-extraction", model=model, tokenizer=tokenizer, device="cpu")(sequence)[0])
    np.testing.assert_allclose(stock, outputs.last_hidden_state[0].numpy(), atol=1e-6)


def test_embed_cli_mean_pooling_fasta_pipeline_and_errors(tmp_path, fasta):
    torch.manual_seed(0)
    folder = _save(build_preset("protein-cnn-small").base_model.eval(), tmp_path / "cnn")
    out = tmp_path / "emb.npz"
    assert cli.main(["embed", "--model", str(folder), "--fasta", str(fasta), "--out", str(out), "--per-residue"]) == 0
    saved = np.load(out)
    offsets = saved["offsets"]
    assert saved["ids"].tolist() == list(PROTEINS)
    assert np.diff(offsets).tolist() == [len(_clean(s)) for s in PROTEINS.values()]
    for index, embedding in enumerate(saved["embeddings"]):
        residues = saved["residue_embeddings"][offsets[index] : offsets[index + 1]]
        np.testing.assert_allclose(embedding, residues.mean(0), atol=1e-5)
    from_file = pipeline("protein-feature-extraction", model=str(folder), device="cpu")(str(fasta), batch_size=2)
    assert [protein["id"] for protein in from_file] == list(PROTEINS)
    np.testing.assert_allclose(np.stack([p["embedding"] for p in from_file]), saved["embeddings"], atol=1e-5)

    bad = tmp_path / "bad.fasta"
    bad.write_text(">ok\nMKV\n>broken\nMK1V\n")
    extract = pipeline("protein-feature-extraction", model=str(folder), device="cpu")
    with pytest.raises(ValueError, match=r"bad\.fasta, record 2 \('broken'\): invalid character '1' at position 3"):
        extract(str(bad))
    with pytest.raises(ValueError, match=r"sequence 2: invalid character '1' at position 2"):
        extract(["MKVLLA", "MKV", "M1K"], batch_size=3)  # the caller's index, not the length-sorted batch's
    empty = tmp_path / "empty.fasta"
    empty.write_text("")
    with pytest.raises(ValueError, match="no FASTA record"):
        embed.main(["--model", str(folder), "--fasta", str(empty), "--out", str(out)])
    with pytest.raises(ValueError, match="no pooler_output"):
        embed.main(["--model", str(folder), "--fasta", str(fasta), "--out", str(out), "--pooling", "pooler"])
