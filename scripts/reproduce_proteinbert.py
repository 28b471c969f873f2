"""ProteinBERT on residue-level PTM sites (issue 7, seed 002): train, score and write docs/results/proteinbert.md.

Runs (each from its config in configs/proteinbert/, through `train.py`):

- `ptm_<ptm>_<loss>`: ProteinBertForTokenClassification from random initialisation on N6-acetyllysine and
  S-palmitoylation sites (CapsNet_PTM fold 0, candidate residues only), with four losses: unweighted, balanced class
  weights, label smoothing 0.1, both. Every finished run is re-scored here at full protein length: ROC-AUC and PR-AUC
  on the test split, and MCC at the threshold that maximises MCC on the validation split (held out of train by
  train.py with the run's seed).
- `ptm_n6_acetyllysine_count`: the seed's sequence-level regression on the number of modified residues.
- `floor`: logistic regression on one-hot +-7 windows of the candidate residues (no floor for these files exists in
  baselines.md), same splits.
- `lora`: trainable-parameter fractions of LoRA (peft) on the family's target modules, full-size models.
- `pca`: PCA of lysine embeddings (modified vs unmodified, test proteins) of the randomly initialised backbone, after
  the count regression and after the residue-level fine-tuning (the seed's figures), as a PNG.

Each finished step leaves `<runs-dir>/results/<name>.json` and is skipped when run again, so the script resumes;
`--page-only` rebuilds the page from what has finished. Long: run it in the background,

    nohup .venv/bin/python scripts/reproduce_proteinbert.py > runs/proteinbert.log 2>&1 &
    python scripts/reproduce_proteinbert.py --only ptm_s_palmitoylation_weighted floor_s_palmitoylation
    python scripts/reproduce_proteinbert.py --page-only
    python scripts/reproduce_proteinbert.py --tiny --runs-dir /tmp/tiny       # CI smoke test (< 1 min)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from reproduction import (  # noqa: E402
    REPO,
    finished,
    load_model,
    load_records,
    predict_logits,
    pyplot,
    read_json,
    render_page,
    run_splits,
    save_figure,
    write_json,
)

CONFIG_DIR = REPO / "configs" / "proteinbert"
DEFAULT_RUNS_DIR = REPO / "runs" / "proteinbert"
DEFAULT_PAGE = REPO / "docs" / "results" / "proteinbert.md"
PTMS = {"n6_acetyllysine": "N6-acetyllysine", "s_palmitoylation": "S-Palmitoylation-cysteine"}
LOSSES = {
    "unweighted": "cross-entropy",
    "weighted": "balanced class weights",
    "smoothed": "label smoothing 0.1",
    "weighted_smoothed": "balanced weights + smoothing 0.1",
}
# the small data set first: its runs take minutes, the N6-acetyllysine ones ~15 minutes each
PTM_RUNS = [f"ptm_{ptm}_{loss}" for ptm in ("s_palmitoylation", "n6_acetyllysine") for loss in LOSSES]
COUNT_RUN = "ptm_n6_acetyllysine_count"
FLOORS = [f"floor_{ptm}" for ptm in PTMS]
STEPS = [*FLOORS, *PTM_RUNS, COUNT_RUN, "pca", "lora"]
LORA_RANKS = (4, 8, 16)
WINDOW_HALF = 7  # floor: one-hot residues within +-7 of the candidate
TINY_OVERRIDES = [
    "--max_train_samples", "12",
    "--max_eval_samples", "6",
    "--num_train_epochs", "1",
    "--config_overrides", "{hidden_size: 8, global_hidden_size: 16, num_hidden_layers: 1, attention_key_size: 4, "
    "num_attention_heads: 2, num_annotations: 4}",
    "--early_stopping_patience", "1",
]  # fmt: skip


# scoring


def predict_residues(model, tokenizer, split, *, max_tokens: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """P(modified) and the label of every scored residue (label != -100) of `split`, proteins at full length.

    Masked padding mode makes a padded batch equal to each protein alone, so proteins are batched by length.
    """
    logits = predict_logits(model, tokenizer, list(split["sequence"]), level="residue", max_tokens=max_tokens)
    scores, labels = [], []
    for residue_logits, residue_labels in zip(logits, split["labels"]):
        residue_labels = np.asarray(residue_labels)
        keep = residue_labels != -100
        scores.append(torch.from_numpy(residue_logits).softmax(-1)[:, 1].numpy()[keep])
        labels.append(residue_labels[keep])
    return np.concatenate(scores), np.concatenate(labels)


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The threshold (among 400 score quantiles) with the highest MCC, and that MCC."""
    from proteinhub.evaluation.metrics import mcc

    candidates = np.unique(np.quantile(scores, np.linspace(0.0, 1.0, 401)))
    values = [mcc(labels, scores >= threshold) for threshold in candidates]
    best = int(np.argmax(values))
    return float(candidates[best]), float(values[best])


def score(validation: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]) -> dict:
    """Test ROC-AUC, PR-AUC (of the modified residues, label 1), and MCC at the best validation threshold (also at
    0.5)."""
    from proteinhub.evaluation.metrics import mcc, pr_auc, roc_auc

    threshold, validation_mcc = best_threshold(*validation)
    scores, labels = test
    return {
        "threshold": threshold,
        "validation_mcc": validation_mcc,
        "validation_roc_auc": roc_auc(validation[1], validation[0], positive_label=1),
        "roc_auc": roc_auc(labels, scores, positive_label=1),
        "pr_auc": pr_auc(labels, scores, positive_label=1),
        "mcc": mcc(labels, scores >= threshold),
        "mcc_at_0.5": mcc(labels, scores >= 0.5),
        "test_residues": int(labels.size),
        "test_positives": int(labels.sum()),
    }


# steps


def run_training(name: str, runs_dir: Path, tiny: bool) -> dict:
    """Train one config with train.py, then re-score it at full length; returns the result record."""
    from proteinhub import training

    output_dir = runs_dir / name
    argv = ["--config", str(CONFIG_DIR / f"{name}.yaml"), "--output_dir", str(output_dir)]
    if tiny:
        argv += TINY_OVERRIDES
    model_args, data_args, loss_args, training_args, values = training.parse_arguments(argv)
    started = time.perf_counter()
    metrics = training.run(model_args, data_args, loss_args, training_args, values)
    record = {
        "name": name,
        "config": f"configs/proteinbert/{name}.yaml",
        "train_time_s": time.perf_counter() - started,
        "epochs": metrics["train"]["epochs"],
        "best_epoch": metrics["train"]["best_checkpoint_epoch"],
        "num_parameters": metrics["run"]["num_parameters"],
        "class_weights": metrics["run"]["class_weights"],
        "label_smoothing": metrics["run"]["label_smoothing"],
        "split_sizes": metrics["run"]["split_sizes"],
        "train_py_test": metrics["test"],
    }
    if name == COUNT_RUN:
        record["test"] = {key: metrics["test"].get(key) for key in ("spearman", "pearson", "mse", "mae")}
        return record
    model, tokenizer = load_model(output_dir, "AutoModelForTokenClassification")
    splits = training.load_splits(data_args, training_args.seed)  # the run's own validation hold-out
    record["test"] = score(
        predict_residues(model, tokenizer, splits["validation"]), predict_residues(model, tokenizer, splits["test"])
    )
    return record


def one_hot_windows(split, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Sparse one-hot (22 symbols x window) of every scored residue's +-half window, and the labels."""
    from scipy.sparse import csr_matrix

    alphabet = {residue: index for index, residue in enumerate("ACDEFGHIKLMNPQRSTVWY")}
    other, pad, width = 20, 21, 2 * half + 1
    rows, columns, labels = [], [], []
    for example in split:
        sequence, residue_labels = example["sequence"], example["labels"]
        for position, label in enumerate(residue_labels):
            if label == -100:
                continue
            row = len(labels)
            for offset in range(-half, half + 1):
                index = position + offset
                symbol = alphabet.get(sequence[index], other) if 0 <= index < len(sequence) else pad
                rows.append(row)
                columns.append((offset + half) * 22 + symbol)
            labels.append(label)
    matrix = csr_matrix((np.ones(len(rows), np.float32), (rows, columns)), shape=(len(labels), 22 * width))
    return matrix, np.asarray(labels)


def run_floor(name: str, runs_dir: Path, tiny: bool) -> dict:
    """Logistic regression on one-hot windows of the candidate residues (C chosen on validation PR-AUC)."""
    from proteinhub.evaluation.metrics import pr_auc
    from sklearn.linear_model import LogisticRegression

    ptm = name.removeprefix("floor_")
    argv = ["--config", str(CONFIG_DIR / f"ptm_{ptm}_weighted.yaml"), "--output_dir", str(runs_dir / name)]
    if tiny:
        argv += TINY_OVERRIDES
    splits = run_splits(argv)
    data = {split: one_hot_windows(splits[split], WINDOW_HALF) for split in ("train", "validation", "test")}
    best = None
    for c in (0.01, 0.1, 1.0):
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(*data["train"])
        value = pr_auc(data["validation"][1], model.predict_proba(data["validation"][0])[:, 1], positive_label=1)
        if best is None or value > best[0]:
            best = (value, c, model)
    _, c, model = best
    validation = (model.predict_proba(data["validation"][0])[:, 1], data["validation"][1])
    test = (model.predict_proba(data["test"][0])[:, 1], data["test"][1])
    return {
        "name": name,
        "model": f"logistic regression, one-hot +-{WINDOW_HALF}, C={c}",
        "test": score(validation, test),
    }


def residue_embeddings(backbone, tokenizer, split, residues: str, limit: int, seed: int) -> tuple[np.ndarray, ...]:
    """Last-layer local embeddings of the candidate residues of `split` (all modified ones plus a random sample of
    the unmodified, `limit` in total) and their labels."""
    vectors, labels = [], []
    for example in split:
        encoding = tokenizer([example["sequence"]], return_tensors="pt")
        with torch.no_grad():
            hidden = backbone(**encoding).last_hidden_state[0, 1:-1].numpy()
        keep = [i for i, residue in enumerate(example["sequence"]) if residue in residues]
        vectors.append(hidden[keep])
        labels.append(np.asarray(example["labels"])[keep])
    vectors, labels = np.concatenate(vectors), np.concatenate(labels)
    rng = np.random.default_rng(seed)
    negatives = np.flatnonzero(labels == 0)
    chosen = np.concatenate([np.flatnonzero(labels == 1), rng.permutation(negatives)[: max(limit - labels.sum(), 0)]])
    return vectors[chosen], labels[chosen]


def _separability(features: np.ndarray, labels: np.ndarray, folds: int = 5) -> float:
    """Cross-validated ROC-AUC of a logistic regression (NaN when a class has fewer members than folds)."""
    from proteinhub.evaluation.metrics import roc_auc
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    if min(int(labels.sum()), int((labels == 0).sum())) < folds:
        return float("nan")
    model = LogisticRegression(max_iter=2000)
    return roc_auc(labels, cross_val_predict(model, features, labels, cv=folds, method="predict_proba")[:, 1])


def run_pca(runs_dir: Path, tiny: bool, figure: Path) -> dict:
    """PCA of lysine embeddings before fine-tuning, after the count regression, after residue fine-tuning."""
    import proteinhub
    from proteinhub.modeling.proteinbert import ProteinBertModel
    from sklearn.decomposition import PCA
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    residue_run, count_run = runs_dir / "ptm_n6_acetyllysine_weighted", runs_dir / COUNT_RUN
    tuned = AutoModelForTokenClassification.from_pretrained(residue_run).eval()
    counted = AutoModelForSequenceClassification.from_pretrained(count_run).eval()
    torch.manual_seed(42)  # train.py's seed: the initialisation both runs started from
    initial = ProteinBertModel(counted.config).eval()
    argv = ["--config", str(CONFIG_DIR / "ptm_n6_acetyllysine_unweighted.yaml"), "--output_dir", str(residue_run)]
    if tiny:
        argv += TINY_OVERRIDES
    test = run_splits(argv)["test"]
    tokenizer = proteinhub.ProteinTokenizer()
    panels = [
        ("random initialisation", initial),
        ("after count regression", counted.proteinbert),
        ("after residue fine-tuning (weighted)", tuned.proteinbert),
    ]
    result = {"name": "pca", "panels": {}}
    fig, axes = pyplot().subplots(1, 3, figsize=(13, 4.2))
    for axis, (title, backbone) in zip(axes, panels):
        vectors, labels = residue_embeddings(backbone, tokenizer, test, "K", limit=200 if tiny else 6000, seed=0)
        projected = PCA(n_components=2, random_state=0).fit_transform(vectors)
        # how separable the two groups are: cross-validated ROC-AUC of a logistic regression on the 2 PCs and on the
        # full embeddings
        auc_2d, auc_full = _separability(projected, labels), _separability(vectors, labels)
        result["panels"][title] = {
            "lysines": int(labels.size),
            "modified": int(labels.sum()),
            "auc_2_pcs": float(auc_2d),
            "auc_full": float(auc_full),
        }
        for value, colour, name in ((0, "#9aa5b1", "unmodified K"), (1, "#d1495b", "N6-acetyl-K")):
            points = projected[labels == value]
            axis.scatter(points[:, 0], points[:, 1], s=3, alpha=0.35 if value == 0 else 0.6, c=colour, label=name)
        axis.set_title(f"{title}\nLR on 2 PCs: ROC-AUC {auc_2d:.3f}", fontsize=10)
        axis.set_xlabel("PC 1")
        axis.set_ylabel("PC 2")
    axes[0].legend(markerscale=4, fontsize=8, loc="best")
    fig.suptitle("ProteinBERT (reduced) lysine embeddings, N6-acetyllysine test proteins", fontsize=11)
    save_figure(fig, figure)
    result["figure"] = figure.name
    return result


def run_lora() -> dict:
    """Trainable parameters of LoRA adapters (plus the fully trained head) on full-size ProteinBERT task models."""
    from peft import LoraConfig, get_peft_model
    from proteinhub.modeling import FAMILIES
    from proteinhub.modeling.proteinbert import (
        ProteinBertConfig,
        ProteinBertForSequenceClassification,
        ProteinBertForTokenClassification,
    )

    family = FAMILIES["proteinbert"]
    rows = []
    for model_class in (ProteinBertForTokenClassification, ProteinBertForSequenceClassification):
        for rank in LORA_RANKS:
            with torch.device("meta"):
                model = model_class(ProteinBertConfig(num_labels=2))
            total = sum(parameter.numel() for parameter in model.parameters())
            config = LoraConfig(
                r=rank, lora_alpha=2 * rank, target_modules=family.lora_target_regex, modules_to_save=["classifier"]
            )
            peft_model = get_peft_model(model, config)
            trainable = sum(parameter.numel() for parameter in peft_model.parameters() if parameter.requires_grad)
            rows.append({"model": model_class.__name__, "r": rank, "trainable": trainable, "base": total})
    return {"name": "lora", "targets": list(family.lora_target_modules), "rows": rows}


# page


def write_page(results: dict[str, dict], page: Path, figure_name: str, benchmark: dict | None = None) -> None:
    """docs/results/proteinbert.md from the result records (missing ones are marked "not run") and the speed
    benchmark's JSON (`benchmarks/proteinbert_vs_esm.py --json`), if there is one."""
    ptms = []
    for ptm, ptm_name in PTMS.items():
        floor = results.get(f"floor_{ptm}")
        done = {loss: results[f"ptm_{ptm}_{loss}"]["test"] for loss in LOSSES if f"ptm_{ptm}_{loss}" in results}
        best = None
        if done and floor is not None:
            loss = max(done, key=lambda loss: done[loss]["pr_auc"])
            pr_aucs = [test["pr_auc"] for test in done.values()]
            best = {
                "description": LOSSES[loss],
                "test": done[loss],
                "finished": len(done),
                "low": min(pr_aucs),
                "high": max(pr_aucs),
            }
        losses = [
            {"description": description, "record": results.get(f"ptm_{ptm}_{loss}")}
            for loss, description in LOSSES.items()
        ]
        ptms.append({"name": ptm_name, "floor": floor, "losses": losses, "best": best})
    render_page(
        "proteinbert.md.jinja",
        page,
        ptms=ptms,
        columns=("roc_auc", "pr_auc", "mcc", "mcc_at_0.5", "threshold"),
        count=results.get(COUNT_RUN),
        pca=results.get("pca"),
        figure_name=figure_name,
        lora=results.get("lora"),
        benchmark=benchmark,
    )


# entry point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    parser.add_argument("--page", type=Path, default=DEFAULT_PAGE, help="results page to write")
    parser.add_argument("--only", nargs="+", choices=STEPS, help="run only these steps (default: all, in order)")
    parser.add_argument("--page-only", action="store_true", help="only rebuild the page from finished steps")
    parser.add_argument("--tiny", action="store_true", help="smoke test: tiny model, a few proteins, 1 epoch")
    args = parser.parse_args(argv)
    os.chdir(REPO)  # the configs' output_dir is relative to the repository root
    results_dir = args.runs_dir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    figure = args.page.with_name("proteinbert_pca.png")
    if not args.page_only:
        for step in args.only or STEPS:
            path = results_dir / f"{step}.json"
            if finished(path, step):
                continue
            print(f"[run] {step}", flush=True)
            started = time.perf_counter()
            if step.startswith("floor_"):
                record = run_floor(step, args.runs_dir, args.tiny)
            elif step == "pca":
                record = run_pca(args.runs_dir, args.tiny, figure)
            elif step == "lora":
                record = run_lora()
            else:
                record = run_training(step, args.runs_dir, args.tiny)
            record["step_time_s"] = time.perf_counter() - started
            write_json(path, record)
            print(f"[done] {step} in {record['step_time_s']:.0f} s: {record.get('test')}", flush=True)
    results = load_records(results_dir)
    benchmark_file = args.runs_dir / "benchmark.json"
    benchmark = read_json(benchmark_file) if benchmark_file.is_file() else None
    write_page(results, args.page, figure.name, benchmark)
    print(f"wrote {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
