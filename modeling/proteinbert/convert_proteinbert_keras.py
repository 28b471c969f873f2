"""Convert the authors' ProteinBERT weight dump (a Keras-era pickle) into a proteinhub `ProteinBertForPreTraining`.

    proteinhub convert proteinbert epoch_92400_sample_23500000.pkl OUT_DIR [--padding-mode faithful]
    python -m proteinhub.modeling.proteinbert.convert_proteinbert_keras PATH.pkl OUT_DIR

The dump is `(n_annotations, model_weights, optimizer_weights)` (pickle protocol 3): an int, the 145 arrays of Keras
`model.get_weights()` and the LAMB optimizer state (the step counter, then the first and second moments of every
weight). It is read with a restricted unpickler that accepts only NumPy arrays, NumPy scalars and plain containers,
so a pickle that would run code is refused before anything runs. The weights are then mapped **by position** (spec
section 3.3; shapes cannot tell the narrow from the wide convolution, nor the two global dense layers apart),
transformed to PyTorch layouts, the token rows are remapped from the original 26-token vocabulary to the shared
31-token one, and the model is written with `save_pretrained` (safetensors) next to the shared tokenizer and a
`conversion.json` record (file hash, optimizer step).

Tokens the original vocabulary lacks: `<mask>`, O, B, Z and J get the embedding of the original `<OTHER>` token (what
the original tokenizer turns them into); the token output layer gives them a zero weight row and a bias of
`UNREACHABLE_LOGIT_BIAS`, so the 31-way softmax equals the original 26-way softmax (the original cannot predict them).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...tokenization.tokenization_protein import EXTRA_AMINO_ACIDS, STANDARD_AMINO_ACIDS, VOCAB, ProteinTokenizer
from .configuration_proteinbert import ProteinBertConfig
from .modeling_proteinbert import ProteinBertForPreTraining

# the released checkpoint (Git-LFS pointer in nadavbra/proteinbert_data_files@4636c3d)
KNOWN_FILE_NAME = "epoch_92400_sample_23500000.pkl"
KNOWN_FILE_SIZE = 191_800_918
KNOWN_FILE_SHA256 = "cffb53e237e49fa91f19a4c8bc0898dcfd75fd12eab7833d6e95b36c02ebacbf"

# the original tokenizer (spec section 1.1): 22 letters, then <OTHER>, <START>, <END>, <PAD>
ORIGINAL_LETTERS = "ACDEFGHIKLMNPQRSTUVWXY"
ORIGINAL_OTHER, ORIGINAL_START, ORIGINAL_END, ORIGINAL_PAD = 22, 23, 24, 25
ORIGINAL_VOCAB_SIZE = 26
# logit bias of the tokens the original cannot predict: exp(-1e4) is exactly 0 in float32
UNREACHABLE_LOGIT_BIAS = -1e4

WEIGHTS_PER_BLOCK = 23
WEIGHTS_OUTSIDE_BLOCKS = 7  # 3 input weights + 4 output weights


class ProteinBertConversionError(ValueError):
    """The file is not a ProteinBERT weight dump this converter understands; the message says what differs."""


# safe unpickling


def _numpy_core():
    # NumPy 2 moved numpy.core to numpy._core; pickles written by NumPy 1.x name the old module
    return getattr(np, "_core", None) or np.core


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): lambda: _numpy_core().multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): lambda: _numpy_core().multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): lambda: _numpy_core().multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): lambda: _numpy_core().multiarray.scalar,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the NumPy globals a weight dump needs (array reconstruction, dtype, scalar).

    Plain containers (tuple, list, dict, int, float, str, bytes) need no global. Anything else, e.g. `os.system` or
    `builtins.eval` referenced by a malicious pickle, raises `pickle.UnpicklingError` before it can be called.
    """

    def find_class(self, module: str, name: str):
        factory = _ALLOWED_GLOBALS.get((module, name))
        if factory is None:
            raise pickle.UnpicklingError(
                f"refusing to load the global {module}.{name}: a ProteinBERT weight dump contains only NumPy arrays "
                "and plain containers, so this pickle is not one (it may run code). Do not load it with pickle."
            )
        return factory()

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing a pickle with persistent ids: a ProteinBERT weight dump has none")


def safe_load_pickle(data: bytes) -> object:
    """Unpickle `data` with `SafeUnpickler`; object arrays (which could smuggle arbitrary objects) are refused."""
    loaded = SafeUnpickler(io.BytesIO(data)).load()
    _refuse_object_arrays(loaded)
    return loaded


def _refuse_object_arrays(value: object) -> None:
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        raise pickle.UnpicklingError("refusing a NumPy array of Python objects: weight dumps hold numeric arrays")
    if isinstance(value, list | tuple):
        for item in value:
            _refuse_object_arrays(item)


# the Keras weight layout (spec section 3.3)


@dataclass(frozen=True)
class KerasWeight:
    """One entry of Keras `model.get_weights()`: its index, Keras name, shape, and where it goes in PyTorch."""

    index: int
    keras_name: str
    shape: tuple[int, ...]
    torch_name: str
    kind: str  # "dense_kernel", "conv_kernel", "attention", "copy", "embedding", "output_seq_kernel", ...


def keras_weight_layout(config: ProteinBertConfig) -> list[KerasWeight]:
    """The Keras weights of a ProteinBERT of this config, in `get_weights()` order, with their PyTorch targets.

    The released model has 145: 3 input weights, 23 per block for 6 blocks, 4 output weights.
    """
    d, g, a = config.hidden_size, config.global_hidden_size, config.num_annotations
    h, k, v, kernel = config.num_attention_heads, config.attention_key_size, config.value_size, config.conv_kernel_size
    layout = [
        ("dense-global-input/kernel", (a, g), "proteinbert.annotation_input.weight", "dense_kernel"),
        ("dense-global-input/bias", (g,), "proteinbert.annotation_input.bias", "copy"),
        ("embedding-seq-input/embeddings", (ORIGINAL_VOCAB_SIZE, d), "proteinbert.embed_tokens.weight", "embedding"),
    ]
    for block in range(config.num_hidden_layers):
        prefix, name = f"proteinbert.layers.{block}", f"-block{block + 1}"
        layout += [
            (f"global-to-seq-dense{name}/kernel", (g, d), f"{prefix}.global_to_local.weight", "dense_kernel"),
            (f"global-to-seq-dense{name}/bias", (d,), f"{prefix}.global_to_local.bias", "copy"),
            (f"narrow-conv{name}/kernel", (kernel, d, d), f"{prefix}.narrow_conv.weight", "conv_kernel"),
            (f"narrow-conv{name}/bias", (d,), f"{prefix}.narrow_conv.bias", "copy"),
            (f"wide-conv{name}/kernel", (kernel, d, d), f"{prefix}.wide_conv.weight", "conv_kernel"),
            (f"wide-conv{name}/bias", (d,), f"{prefix}.wide_conv.bias", "copy"),
            (f"seq-merge1-norm{name}/gamma", (d,), f"{prefix}.local_norm1.weight", "copy"),
            (f"seq-merge1-norm{name}/beta", (d,), f"{prefix}.local_norm1.bias", "copy"),
            (f"seq-dense{name}/kernel", (d, d), f"{prefix}.local_dense.weight", "dense_kernel"),
            (f"seq-dense{name}/bias", (d,), f"{prefix}.local_dense.bias", "copy"),
            (f"seq-merge2-norm{name}/gamma", (d,), f"{prefix}.local_norm2.weight", "copy"),
            (f"seq-merge2-norm{name}/beta", (d,), f"{prefix}.local_norm2.bias", "copy"),
            (f"global-dense1{name}/kernel", (g, g), f"{prefix}.global_dense1.weight", "dense_kernel"),
            (f"global-dense1{name}/bias", (g,), f"{prefix}.global_dense1.bias", "copy"),
            (f"global-attention{name}/Wq", (h, g, k), f"{prefix}.attention.query.weight", "attention"),
            (f"global-attention{name}/Wk", (h, d, k), f"{prefix}.attention.key.weight", "attention"),
            (f"global-attention{name}/Wv", (h, d, v), f"{prefix}.attention.value.weight", "attention"),
            (f"global-merge1-norm{name}/gamma", (g,), f"{prefix}.global_norm1.weight", "copy"),
            (f"global-merge1-norm{name}/beta", (g,), f"{prefix}.global_norm1.bias", "copy"),
            (f"global-dense2{name}/kernel", (g, g), f"{prefix}.global_dense2.weight", "dense_kernel"),
            (f"global-dense2{name}/bias", (g,), f"{prefix}.global_dense2.bias", "copy"),
            (f"global-merge2-norm{name}/gamma", (g,), f"{prefix}.global_norm2.weight", "copy"),
            (f"global-merge2-norm{name}/beta", (g,), f"{prefix}.global_norm2.bias", "copy"),
        ]
    layout += [
        ("output-seq/kernel", (d, ORIGINAL_VOCAB_SIZE), "lm_head.weight", "output_seq_kernel"),
        ("output-seq/bias", (ORIGINAL_VOCAB_SIZE,), "lm_head.bias", "output_seq_bias"),
        ("output-annotations/kernel", (g, a), "annotation_head.weight", "dense_kernel"),
        ("output-annotations/bias", (a,), "annotation_head.bias", "copy"),
    ]
    return [KerasWeight(index, *entry) for index, entry in enumerate(layout)]


def config_from_weights(weights: Sequence[np.ndarray], **overrides) -> ProteinBertConfig:
    """Infer the architecture from the weight shapes (the wide-conv dilation cannot be seen: default 5)."""
    if len(weights) < WEIGHTS_OUTSIDE_BLOCKS + WEIGHTS_PER_BLOCK or (
        (len(weights) - WEIGHTS_OUTSIDE_BLOCKS) % WEIGHTS_PER_BLOCK
    ):
        raise ProteinBertConversionError(
            f"the dump holds {len(weights)} model weights; a ProteinBERT has 7 + 23 x blocks (145 for the released "
            "6-block model). This is not a ProteinBERT weight dump."
        )
    for index in (0, 2, 3 + 14):
        if np.ndim(weights[index]) not in (2, 3):
            raise ProteinBertConversionError(
                f"model weight {index} has shape {np.shape(weights[index])}, not the matrix expected at that position "
                "in a ProteinBERT weight dump"
            )
    num_annotations, global_hidden_size = np.shape(weights[0])
    hidden_size = np.shape(weights[2])[1]
    num_heads, _, key_size = np.shape(weights[3 + 14])  # block 1 Wq
    kernel_size = np.shape(weights[3 + 2])[0]  # block 1 narrow conv
    inferred = {
        "hidden_size": int(hidden_size),
        "global_hidden_size": int(global_hidden_size),
        "num_hidden_layers": (len(weights) - WEIGHTS_OUTSIDE_BLOCKS) // WEIGHTS_PER_BLOCK,
        "num_attention_heads": int(num_heads),
        "attention_key_size": int(key_size),
        "conv_kernel_size": int(kernel_size),
        "num_annotations": int(num_annotations),
    }
    return ProteinBertConfig(**{**inferred, **overrides})


def check_dump(dump: object, *, wide_conv_dilation: int = 5) -> tuple[ProteinBertConfig, list[np.ndarray], int | None]:
    """Validate the `(n_annotations, model_weights, optimizer_weights)` structure and every shape.

    Returns the inferred config, the model weights, and the optimizer step counter (None if absent).
    """
    if not (isinstance(dump, tuple) and len(dump) == 3):
        found = f"a {type(dump).__name__}" + (f" of {len(dump)} items" if isinstance(dump, tuple | list) else "")
        raise ProteinBertConversionError(
            f"expected the tuple (n_annotations, model_weights, optimizer_weights) of a ProteinBERT dump, found {found}"
        )
    num_annotations, weights, optimizer = dump
    if not isinstance(num_annotations, int) or not isinstance(weights, list) or not isinstance(optimizer, list):
        raise ProteinBertConversionError(
            "expected (int, list of model weights, list of optimizer weights), found "
            f"({type(num_annotations).__name__}, {type(weights).__name__}, {type(optimizer).__name__})"
        )
    for index, weight in enumerate(weights):
        if not isinstance(weight, np.ndarray) or not np.issubdtype(weight.dtype, np.floating):
            raise ProteinBertConversionError(
                f"model weight {index} is {type(weight).__name__} ({getattr(weight, 'dtype', '-')}), not a float array"
            )
    config = config_from_weights(weights, wide_conv_dilation=wide_conv_dilation)
    if config.num_annotations != num_annotations:
        raise ProteinBertConversionError(
            f"the dump declares n_annotations={num_annotations} but its annotation input layer has "
            f"{config.num_annotations} rows"
        )
    layout = keras_weight_layout(config)
    for entry in layout:
        found = tuple(weights[entry.index].shape)
        if found != entry.shape:
            raise ProteinBertConversionError(
                f"model weight {entry.index} ({entry.keras_name}) has shape {found}, expected {entry.shape} for a "
                "ProteinBERT with the shapes of the first weights. The dump has another structure."
            )
    step = None
    if optimizer:
        expected = 1 + 2 * len(weights)
        if len(optimizer) != expected:
            raise ProteinBertConversionError(
                f"the optimizer state has {len(optimizer)} entries; LAMB/Adam state of {len(weights)} weights has "
                f"{expected} (step counter, first moments, second moments)"
            )
        for offset in (1, 1 + len(weights)):
            for entry in layout:
                moment = optimizer[offset + entry.index]
                if tuple(np.shape(moment)) != entry.shape:
                    raise ProteinBertConversionError(
                        f"optimizer entry {offset + entry.index} has shape {np.shape(moment)}, expected the shape "
                        f"{entry.shape} of {entry.keras_name}"
                    )
        step = int(np.asarray(optimizer[0]))
    return config, weights, step


# token remapping


def shared_to_original_ids() -> dict[int, int]:
    """For each shared-tokenizer id, the original token id whose embedding it takes (`<OTHER>` for tokens the
    original tokenizer does not know: `<mask>`, O, B, Z, J)."""
    mapping = {
        VOCAB["<pad>"]: ORIGINAL_PAD,
        VOCAB["<unk>"]: ORIGINAL_OTHER,
        VOCAB["<cls>"]: ORIGINAL_START,
        VOCAB["<eos>"]: ORIGINAL_END,
        VOCAB["<mask>"]: ORIGINAL_OTHER,
    }
    for residue in STANDARD_AMINO_ACIDS + EXTRA_AMINO_ACIDS:
        mapping[VOCAB[residue]] = ORIGINAL_LETTERS.index(residue) if residue in ORIGINAL_LETTERS else ORIGINAL_OTHER
    return mapping


def original_to_shared_ids() -> dict[int, int]:
    """For each of the 26 original token ids, the shared id that predicts it (the inverse on the 26 tokens the
    original can emit; `<OTHER>` is `<unk>`)."""
    inverse = {
        ORIGINAL_PAD: VOCAB["<pad>"],
        ORIGINAL_OTHER: VOCAB["<unk>"],
        ORIGINAL_START: VOCAB["<cls>"],
        ORIGINAL_END: VOCAB["<eos>"],
    }
    inverse.update({index: VOCAB[letter] for index, letter in enumerate(ORIGINAL_LETTERS)})
    return inverse


# conversion


def convert_weights(weights: Sequence[np.ndarray], config: ProteinBertConfig) -> dict[str, torch.Tensor]:
    """Map the Keras weights by position to a `ProteinBertForPreTraining` state dict of `config` (shared vocabulary)."""
    state: dict[str, torch.Tensor] = {}
    to_original = shared_to_original_ids()
    to_shared = original_to_shared_ids()
    for entry in keras_weight_layout(config):
        value = np.asarray(weights[entry.index], dtype=np.float32)
        if entry.kind == "dense_kernel":  # (in, out) -> nn.Linear (out, in)
            tensor = torch.from_numpy(value.T.copy())
        elif entry.kind == "conv_kernel":  # (kernel, in, out) -> nn.Conv1d (out, in, kernel); both cross-correlate
            tensor = torch.from_numpy(value.transpose(2, 1, 0).copy())
        elif entry.kind == "attention":  # (heads, in, out) -> fused bias-free Linear (heads x out, in), head-major
            heads, in_features, out_features = value.shape
            tensor = torch.from_numpy(value.transpose(0, 2, 1).reshape(heads * out_features, in_features).copy())
        elif entry.kind == "embedding":
            rows = [to_original[shared] for shared in range(config.vocab_size)]
            tensor = torch.from_numpy(value[rows].copy())
        elif entry.kind == "output_seq_kernel":  # (hidden, 26) -> (vocab, hidden); unreachable tokens: zero rows
            tensor = torch.zeros(config.vocab_size, config.hidden_size)
            for original, shared in to_shared.items():
                tensor[shared] = torch.from_numpy(value[:, original].copy())
        elif entry.kind == "output_seq_bias":
            tensor = torch.full((config.vocab_size,), UNREACHABLE_LOGIT_BIAS)
            for original, shared in to_shared.items():
                tensor[shared] = float(value[original])
        else:
            tensor = torch.from_numpy(value.copy())
        state[entry.torch_name] = tensor
    return state


def load_dump(path: str | Path, *, wide_conv_dilation: int = 5) -> tuple[ProteinBertConfig, list[np.ndarray], dict]:
    """Read, verify and validate a weight dump; returns (config, model weights, conversion record)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (the ProteinBERT weight dump, e.g. {KNOWN_FILE_NAME})")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if (path.name == KNOWN_FILE_NAME or len(data) == KNOWN_FILE_SIZE) and digest != KNOWN_FILE_SHA256:
        raise ProteinBertConversionError(
            f"{path}: {len(data):,} bytes with SHA-256 {digest}, but the released {KNOWN_FILE_NAME} has "
            f"{KNOWN_FILE_SIZE:,} bytes and SHA-256 {KNOWN_FILE_SHA256}. The download is truncated or corrupted: "
            "download it again (Zenodo record 10371965 or the Git-LFS copy in Brandes-Lab/proteinbert_data_files)."
        )
    try:
        dump = safe_load_pickle(data)
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise ProteinBertConversionError(f"{path}: cannot read the weight dump: {error}") from error
    try:
        config, weights, step = check_dump(dump, wide_conv_dilation=wide_conv_dilation)
    except ProteinBertConversionError as error:
        raise ProteinBertConversionError(f"{path}: {error}") from None
    record = {
        "source": path.name,
        "size_bytes": len(data),
        "sha256": digest,
        "is_released_checkpoint": digest == KNOWN_FILE_SHA256,
        "optimizer_step": step,
        "num_keras_weights": len(weights),
    }
    return config, weights, record


def convert(
    path: str | Path, output_dir: str | Path, *, padding_mode: str = "masked", wide_conv_dilation: int = 5
) -> ProteinBertForPreTraining:
    """Convert a dump into `output_dir` (config.json, model.safetensors, tokenizer files, conversion.json)."""
    config, weights, record = load_dump(path, wide_conv_dilation=wide_conv_dilation)
    config.padding_mode = padding_mode
    model = ProteinBertForPreTraining(config)
    model.load_state_dict(convert_weights(weights, config), strict=True)
    model.eval()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    ProteinTokenizer(**config.tokenizer_kwargs).save_pretrained(output_dir)
    record["num_parameters"] = sum(parameter.numel() for parameter in model.parameters())
    (output_dir / "conversion.json").write_text(json.dumps(record, indent=2) + "\n")
    return model


# command line


def run(args: argparse.Namespace) -> int:
    """Run a conversion from parsed arguments; prints a summary, returns the exit code."""
    model = convert(
        args.path, args.output_dir, padding_mode=args.padding_mode, wide_conv_dilation=args.wide_conv_dilation
    )
    record = json.loads((Path(args.output_dir) / "conversion.json").read_text())
    released = "the released checkpoint" if record["is_released_checkpoint"] else "not the released checkpoint"
    print(
        f"converted {args.path} ({released}, SHA-256 {record['sha256'][:12]}..., optimizer step "
        f"{record['optimizer_step']}) into {args.output_dir}: {type(model).__name__}, "
        f"{record['num_parameters']:,} parameters, padding_mode={model.config.padding_mode}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m` this module: the same as `proteinhub convert proteinbert ...`."""
    from ...cli import main as command_line

    return command_line(["convert", "proteinbert", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
