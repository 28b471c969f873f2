"""Cards: model cards of training runs (`model_cards/*.md` Jinja templates rendered with huggingface_hub's
`ModelCard`), the minimal card of a folder pushed without one, and the dataset cards of `proteinhub push-dataset`.

Rendering is local only: `ModelCard.validate()` (a Hub call) is never used, so cards are written offline.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from huggingface_hub import DatasetCard, EvalResult, ModelCard, ModelCardData

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "model_cards"
DEFAULT_TEMPLATE = TEMPLATE_DIR / "model_card.md"

METRIC_NAMES = {
    "accuracy": "Accuracy",
    "f1_macro": "Macro F1",
    "mcc": "Matthews correlation",
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC (average precision)",
    "spearman": "Spearman correlation",
    "pearson": "Pearson correlation",
    "mse": "Mean squared error",
    "mae": "Mean absolute error",
}
# config fields that describe the task, the loss or transformers bookkeeping rather than the architecture
_NOT_ARCHITECTURE = {
    "transformers_version",
    "model_type",
    "class_weights",
    "label_smoothing",
    "pad_token_id",
    "id2label",
    "label2id",
    "problem_type",
    "auto_map",
    "architectures",
    "dtype",
    "_name_or_path",
    "use_cache",
    "bos_token_id",
    "eos_token_id",
}
EXAMPLE_SEQUENCE = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKAL"


def _first_paragraph(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _format(value) -> str:
    value = getattr(value, "value", value)  # enums such as SchedulerType.COSINE -> "cosine"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def eval_results(metrics: dict, task, dataset_name: str, dataset_config: str | None) -> list[EvalResult]:
    """One `EvalResult` per (split, metric) measured, for the card's `model-index`."""
    results = []
    for split in ("validation", "test"):
        for metric, value in metrics.get(split, {}).items():
            if metric in METRIC_NAMES and value is not None:
                results.append(
                    EvalResult(
                        task_type=task.pipeline_tag,
                        dataset_type=dataset_name,
                        dataset_name=dataset_name + (f" ({dataset_config})" if dataset_config else ""),
                        dataset_config=dataset_config,
                        dataset_split=split,
                        metric_type=metric,
                        metric_name=METRIC_NAMES[metric],
                        metric_value=round(float(value), 4),
                    )
                )
    return results


def render_model_card(
    *,
    model_id: str,
    model_path: str,
    metrics: dict,
    task,
    config,
    model_class: type,
    training_args,
    dataset_info=None,
    figures: Sequence[str] = (),
    template_path: str | os.PathLike = DEFAULT_TEMPLATE,
) -> ModelCard:
    """Render the card of a finished run from its `metrics.json` content; no network access.

    Args:
        model_id: the card's title and `model-index` name (the run directory name).
        model_path: what the usage snippet loads (the run directory or a Hub repo id).
        metrics: the run's metrics (`{"validation": {...}, "test": {...}, "train": {...}, "run": {...}}`).
        task: the `train.Task` of the run.
        config: the trained model's config.
        model_class: the trained model's class.
        training_args: the run's `TrainingArguments`.
        dataset_info: `datasets.DatasetInfo` of the training data (description, homepage, license, citation).
        figures: image files in the run directory to show under the results.
        template_path: a Jinja model-card template.
    """
    run = metrics["run"]
    dataset_name, dataset_config = run["dataset"], run.get("dataset_config")
    metric_names = [name for name in METRIC_NAMES if any(name in metrics.get(s, {}) for s in ("validation", "test"))]
    results = [
        {"split": split, "values": [_format(metrics[split].get(name, "-")) for name in ["loss", *metric_names]]}
        for split in ("validation", "test")
        if split in metrics
    ]
    description = (getattr(dataset_info, "description", "") or "").strip()
    # drop the machine-readable trailer lines (e.g. `label_names: [...]`) of proteinhub builders
    description = " ".join(line for line in description.splitlines() if not line.startswith("label_names:")).strip()
    starting_point = f"`{run['model']}`" + (" (fresh weights)" if run["model"] in _presets() else " (fine-tuned)")
    task_description = f"{task.level}-level {task.problem}" + (
        f" ({task.num_labels} classes)" if task.problem == "classification" else ""
    )
    hyperparameters = {
        "epochs trained": _format(metrics["train"].get("epochs")),
        "best epoch": _format(metrics["train"].get("best_checkpoint_epoch")),
        "learning rate": _format(training_args.learning_rate),
        "schedule": f"{training_args.lr_scheduler_type}, warm-up {_format(training_args.warmup_steps)}",
        "optimizer": f"{training_args.optim}, weight decay {_format(training_args.weight_decay)}",
        "global batch size": run["global_batch_size"],
        "processes": run["world_size"],
        "max input length (tokens)": run["arguments"].get("max_length") or "no limit",
        "class weights": run["class_weights"] or "none",
        "label smoothing": run["label_smoothing"],
        "early stopping patience": getattr(training_args, "early_stopping_patience", None) or "off",
        "model selection": f"best validation {run['metric_for_best_model']}",
        "seed": run["seed"],
        "training time": f"{run['train_time_s']:.0f} s on {run['device']}",
    }
    card_data = ModelCardData(
        model_name=model_id,
        library_name="transformers",
        license="apache-2.0",
        pipeline_tag=task.pipeline_tag,
        tags=["proteinhub", "protein", "biology", config.model_type, task.pipeline_tag],
        datasets=[dataset_name],
        metrics=metric_names,
        eval_results=eval_results(metrics, task, dataset_name, dataset_config),
    )
    return ModelCard.from_template(
        card_data,
        template_path=str(template_path),
        model_id=model_id,
        model_summary=(
            f"A `{type(config).__name__.removesuffix('Config')}` model for {task_description} on `{dataset_name}`, "
            "trained with proteinhub's `train.py`. Every number below was measured by that run (see "
            "`metrics.json`)."
        ),
        model_class=model_class.__name__,
        auto_class=task.auto_class,
        model_type=config.model_type,
        starting_point=starting_point,
        num_parameters=run["num_parameters"],
        task_description=task_description,
        class_names=list(task.class_names),
        versions=run["versions"],
        architecture_summary=f"{_first_paragraph(type(config))} {_first_paragraph(model_class)}",
        architecture={k: v for k, v in config.to_diff_dict().items() if k not in _NOT_ARCHITECTURE},
        prepend_cls=config.prepend_cls,
        append_eos=config.append_eos,
        dataset_name=dataset_name,
        dataset_config=dataset_config,
        dataset_description=description,
        dataset_homepage=getattr(dataset_info, "homepage", "") or "",
        dataset_license=getattr(dataset_info, "license", "") or "",
        dataset_citation=(getattr(dataset_info, "citation", "") or "").strip(),
        split_sizes=run["split_sizes"],
        hyperparameters=hyperparameters,
        main_metric=run["metric_for_best_model"],
        scored_unit=task.unit,
        metric_names=["loss", *metric_names],
        results=results,
        figures=list(figures),
        intended_use=(
            f"Research and teaching: {task_description} of protein sequences like those of `{dataset_name}`, and a "
            "baseline to compare other models against on the same splits. Not validated for clinical or diagnostic "
            "decisions."
        ),
        limitations=[
            f"Trained on {run['split_sizes']['train']} proteins; performance on proteins unlike the training set "
            "(other organisms, families, lengths) is unknown.",
            "The test split comes from the same source as the training data, so the numbers above may be "
            "optimistic for new data.",
            "Inputs longer than the maximum input length are truncated and their remaining residues get no prediction."
            if run["arguments"].get("max_length")
            else "Very long proteins are processed whole, which costs memory in proportion to their length.",
            "Only the 20 standard amino acids and X U O B Z J are accepted; other characters raise an error.",
        ],
        pipeline_tag=task.pipeline_tag,
        model_path=model_path,
        example_sequence=EXAMPLE_SEQUENCE,
    )


def write_model_card(
    output_dir: str | os.PathLike,
    *,
    metrics: dict,
    task,
    config,
    model_class: type,
    training_args,
    dataset_info=None,
    figures: Sequence[str] = (),
) -> Path:
    """Render the card of the run in `output_dir` and save it as `output_dir/README.md`."""
    output_dir = Path(output_dir)
    card = render_model_card(
        model_id=output_dir.name,
        model_path=str(output_dir),
        metrics=metrics,
        task=task,
        config=config,
        model_class=model_class,
        training_args=training_args,
        dataset_info=dataset_info,
        figures=figures,
    )
    path = output_dir / "README.md"
    card.save(path)
    return path


def _presets() -> set[str]:
    from ..modeling.registry import FAMILIES, presets

    return set(presets()) | set(FAMILIES)


# a pushed folder's card


_USAGE_LOCATION = re.compile(r"""(\bmodel=|\.from_pretrained\()(["'])([^"']*)\2""")


def card_for_repo(card: str, repo_id: str, revision: str | None) -> str:
    """The card's usage snippets load the run directory; on the Hub they must load the repository."""
    suffix = f', revision="{revision}"' if revision and revision != "main" else ""
    return _USAGE_LOCATION.sub(lambda m: f'{m.group(1)}"{repo_id}"{suffix}', card)


def minimal_model_card(config: dict, auto_name: str) -> str:
    """A card for a folder without one (plain save_pretrained output of a model loaded by `auto_name`): metadata and
    a usage snippet."""
    from ..modeling import tasks

    architecture = (config.get("architectures") or ["AutoModel"])[0]
    pipeline_tag = tasks.pipeline_tag(auto_name)
    tags = [
        "proteinhub",
        "protein",
        "biology",
        str(config.get("model_type")),
        *([pipeline_tag] if pipeline_tag else []),
    ]
    metadata = ModelCardData(library_name="transformers", pipeline_tag=pipeline_tag, tags=tags).to_yaml()
    if pipeline_tag:
        # "MODEL" is replaced by the repository id in `card_for_repo`
        snippet = (
            f'from transformers import pipeline\n\npredictor = pipeline("{pipeline_tag}", model="MODEL")\n'
            'print(predictor("MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKAL"))'
        )
    else:
        snippet = f'from transformers import {auto_name}\n\nmodel = {auto_name}.from_pretrained("MODEL")'
    return (
        f"---\n{metadata}\n---\n\n# {architecture}\n\nA `{config.get('model_type')}` model saved with "
        "proteinhub; this folder carries no training record (no metrics.json), so no results are reported.\n\n"
        "## Usage\n\nWith proteinhub installed:\n\n"
        f"```python\nimport proteinhub  # registers the models\n{snippet}\n```\n\n"
        "Without proteinhub, pass `trust_remote_code=True` to `from_pretrained` / `pipeline`.\n"
    )


# dataset cards (`proteinhub push-dataset`)


def builder_metadata(name: str, dataset) -> dict:
    """Card metadata from the builder's documentation (`dataset_scripts/<name>.md`) and `DatasetInfo`."""
    info = next(iter(dataset.values())).info
    metadata: dict = {}
    doc = builder_doc(name)
    if doc is not None:
        metadata = {k: v for k, v in doc.data.to_dict().items() if v is not None}
    if info.license and "license" not in metadata:
        metadata["license"] = info.license.lower()
    metadata.setdefault("pretty_name", name)
    tags = metadata.get("tags") or []
    metadata["tags"] = list(dict.fromkeys([*tags, "proteinhub", "protein", "biology"]))
    return metadata


def builder_doc(name: str) -> DatasetCard | None:
    from ..dataset_scripts.loading import BUILDERS

    path = Path(sys.modules[BUILDERS[name].__module__].__file__).with_suffix(".md")
    return DatasetCard.load(path) if path.is_file() else None


def dataset_card(card: DatasetCard, name: str, config_name: str, repo_id: str, dataset) -> str:
    """The card text: metadata (kept), then usage, counts, source/license/citation and the builder's doc."""
    from datasets.info import DatasetInfosDict

    info = next(iter(dataset.values())).info
    description = "\n".join(
        line for line in (info.description or "").splitlines() if not line.startswith("label_names:")
    ).strip()
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    count_rows = [
        f"| `{config}` | {split} | {split_info.num_examples:,} |"
        for config, config_info in sorted(infos.items())
        for split, split_info in (config_info.splits or {}).items()
    ]
    lines = [
        f"# {card.data.get('pretty_name') or name}",
        "",
        description,
        "",
        "## Usage",
        "",
        f"Parquet shards of proteinhub's `{name}` dataset; plain `datasets` loads them (no proteinhub needed):",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'dataset = load_dataset("{repo_id}", "{config_name}")',
        "```",
        "",
        "## Counts",
        "",
        "| config | split | proteins |",
        "|---|---|---|",
        *count_rows,
        "",
        *label_counts(dataset, config_name),
        "## Source, license and citation",
        "",
        f"- source: {info.homepage or 'see the documentation below'}",
        f"- license: {card.data.get('license') or info.license or 'not stated; check the source before reuse'}",
    ]
    if info.citation:
        lines += ["", "```bibtex", info.citation.strip(), "```"]
    doc = builder_doc(name)
    if doc is not None:
        lines += ["", f"## proteinhub documentation of `{name}`", "", demote_headings(doc.text.strip())]
    return f"---\n{card.data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n"


def label_counts(dataset, config_name: str) -> list[str]:
    """Per-split residue and label counts of the pushed config, as Markdown lines."""
    import pyarrow.compute as pc

    from ..dataset_scripts import label_names

    try:
        names = label_names(dataset)
    except ValueError:
        names = None
    rows = []
    for split, split_data in dataset.items():
        table = split_data.with_format("arrow")[:]
        residues = pc.sum(pc.utf8_length(table["sequence"])).as_py() if "sequence" in table.column_names else None
        column = next((c for c in ("labels", "label") if c in table.column_names), None)
        counts = ""
        if column is not None and names is not None:
            values = table[column]
            if column == "labels":
                values = pc.list_flatten(values)
            tally = {int(item["values"]): item["counts"] for item in pc.value_counts(values).to_pylist()}
            counts = ", ".join(f"{label} {tally.get(i, 0):,}" for i, label in enumerate(names))
            if -100 in tally:
                counts += f", ignored (-100) {tally[-100]:,}"
        rows.append(f"| {split} | {residues if residues is None else f'{residues:,}'} | {counts or '-'} |")
    return [
        f"Config `{config_name}` in detail:",
        "",
        "| split | residues | labels |",
        "|---|---|---|",
        *rows,
        "",
    ]


def demote_headings(markdown: str) -> str:
    lines, in_code = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        lines.append("#" + line if line.startswith("#") and not in_code else line)
    return "\n".join(lines)
