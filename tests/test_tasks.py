"""The task vocabulary (`modeling/tasks.py`) and the one loss entry point (`modeling/losses.py`).

One definition per concept: `IGNORE_INDEX` is assigned once in the sources, only `losses.py` calls torch's loss
functions, and every model that computes a loss (each head of each family, the autoencoder) does so there; the
classification and regression heads give exactly what `classification_loss` gives for their config.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from proteinhub.modeling import classification_loss
from proteinhub.modeling.losses import check_label_shape
from proteinhub.modeling.tasks import (
    IGNORE_INDEX,
    LEVELS,
    MULTI_LABEL,
    PROBLEMS,
    REGRESSION,
    SINGLE_LABEL,
    get_level,
    model_level,
    pipeline_tag,
    resolve_problem_type,
)
from torch.overrides import TorchFunctionMode

REPO = Path(__file__).resolve().parents[1]
TORCH_DIR = Path(torch.__file__).resolve().parent
LOSS_FUNCTIONS = {
    F.cross_entropy,
    F.nll_loss,
    F.binary_cross_entropy,
    F.binary_cross_entropy_with_logits,
    F.mse_loss,
    F.l1_loss,
    F.smooth_l1_loss,
    F.kl_div,
}


def _sources() -> list[Path]:
    """Every Python file the repository tracks, except the tests (virtual environments and build output inside the
    checkout, such as CI's .ci-venv, are not the project's code)."""
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True)
    return [REPO / name for name in tracked.stdout.splitlines() if not name.startswith("tests/")]


# one definition per concept


def test_ignore_index_is_defined_once():
    assignment = re.compile(r"^\s*IGNORE_INDEX\s*(?::[^=]+)?=", re.MULTILINE)
    defined = [path.relative_to(REPO).as_posix() for path in _sources() if assignment.search(path.read_text())]
    assert defined == ["modeling/tasks.py"]
    assert inspect.signature(F.cross_entropy).parameters["ignore_index"].default == IGNORE_INDEX


def test_only_the_loss_module_calls_torch_losses_in_the_models():
    call = re.compile(r"\b(?:F|functional|nn)\.(?:cross_entropy|nll_loss|binary_cross_entropy\w*|mse_loss)\(")
    callers = [
        path.relative_to(REPO).as_posix() for path in (REPO / "modeling").rglob("*.py") if call.search(path.read_text())
    ]
    assert callers == ["modeling/losses.py"]


# the vocabulary


def test_levels_name_their_auto_class_pipeline_tag_and_unit():
    assert {name: (lvl.auto_class, lvl.pipeline_tag, lvl.unit) for name, lvl in LEVELS.items()} == {
        "protein": ("AutoModelForSequenceClassification", "text-classification", "proteins"),
        "residue": ("AutoModelForTokenClassification", "token-classification", "residues"),
        "site": ("AutoModelForSequenceClassification", "text-classification", "sites"),
    }
    with pytest.raises(ValueError, match="unknown level 'token'; a label is about one of: protein, residue, site"):
        get_level("token")


@pytest.mark.parametrize(
    ("auto_class", "tag"),
    [
        ("AutoModelForSequenceClassification", "text-classification"),
        ("AutoModelForTokenClassification", "token-classification"),
        ("AutoModel", "feature-extraction"),
        ("AutoModelForCausalLM", None),
        ("AutoModelForPreTraining", None),
    ],
)
def test_pipeline_tag_of_each_auto_class(auto_class, tag):
    assert pipeline_tag(auto_class) == tag


@pytest.mark.parametrize(
    ("architecture", "config", "level"),
    [
        ("LocalizationForSequenceClassification", None, "protein"),
        ("SecondaryStructureForTokenClassification", None, "residue"),
        ("PhosphositeVGGForSequenceClassification", {"site_residues": "ST", "window_size": 33}, "site"),
        ("ProteinCNNModel", None, None),
        ("UniRepForCausalLM", None, None),
    ],
)
def test_model_level_from_class_name_and_config(architecture, config, level):
    assert model_level(architecture, config) == level


def test_model_level_reads_a_config_object():
    from proteinhub.modeling.phosphosite import PhosphositeVGGConfig

    assert model_level("PhosphositeVGGForSequenceClassification", PhosphositeVGGConfig()) == "site"


@pytest.mark.parametrize(
    ("num_labels", "problem_type", "regression", "expected"),
    [
        (1, None, False, MULTI_LABEL),  # a single-logit binary classifier (transformers would say regression)
        (2, None, False, SINGLE_LABEL),
        (5, None, False, SINGLE_LABEL),
        (1, None, True, REGRESSION),
        (3, MULTI_LABEL, False, MULTI_LABEL),  # a config's problem_type wins
        (1, REGRESSION, False, REGRESSION),
    ],
)
def test_resolve_problem_type(num_labels, problem_type, regression, expected):
    assert resolve_problem_type(num_labels, problem_type, regression=regression) == expected


def test_problem_names_map_to_transformers_problem_types():
    assert PROBLEMS == {
        "single-label": "single_label_classification",
        "multi-label": "multi_label_classification",
        "regression": "regression",
    }
    with pytest.raises(ValueError, match="unknown problem_type 'binary'"):
        resolve_problem_type(1, "binary")


# the label-shape check


@pytest.mark.parametrize(
    ("labels_shape", "logits_shape", "level", "message"),
    [
        ((2, 5), (2, 6, 3), "residue", r"model produced \(2, 6\) positions; residue labels must be aligned"),
        ((2,), (2, 5, 3), "residue", "aligned with the tokens"),
        ((3,), (2, 4), "protein", r"one label per protein \(batch,\)"),
        ((2, 3), (2, 4), "protein", r"logits of shape \(2, 4\)"),
        ((2, 2), (2, 1), "site", "one label per site"),
    ],
)
def test_label_shape_check_names_the_shapes(labels_shape, logits_shape, level, message):
    with pytest.raises(ValueError, match=message):
        check_label_shape(torch.zeros(labels_shape), logits_shape, level)


@pytest.mark.parametrize(
    ("labels_shape", "logits_shape", "level"),
    [
        ((2, 6), (2, 6, 3), "residue"),  # class ids per token
        ((2, 6, 3), (2, 6, 3), "residue"),  # soft targets per token
        ((2,), (2, 4), "protein"),
        ((2, 4), (2, 4), "protein"),  # soft / multi-hot targets
        ((2,), (2, 1), "site"),
    ],
)
def test_label_shapes_every_head_accepts(labels_shape, logits_shape, level):
    check_label_shape(torch.zeros(labels_shape), logits_shape, level)


def test_loss_entry_point_sum_reduction_is_the_mean_times_the_count():
    logits = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    labels = torch.tensor([0, 2, IGNORE_INDEX, 1])
    mean = classification_loss(logits, labels, problem_type=SINGLE_LABEL)
    total = classification_loss(logits, labels, problem_type=SINGLE_LABEL, reduction="sum")
    torch.testing.assert_close(total, mean * 3)
    with pytest.raises(ValueError, match="resolve a missing one with tasks.resolve_problem_type"):
        classification_loss(logits, labels, problem_type=None)


# every model computes its loss through the entry point


class _LossCallers(TorchFunctionMode):
    """Records the source file of the first non-torch frame behind each call of a torch loss function."""

    def __init__(self):
        super().__init__()
        self.files: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in LOSS_FUNCTIONS:
            frame = sys._getframe(1)
            while frame is not None and Path(frame.f_code.co_filename).resolve().is_relative_to(TORCH_DIR):
                frame = frame.f_back
            self.files.append(Path(frame.f_code.co_filename).resolve().as_posix())
        return func(*args, **(kwargs or {}))


def test_every_model_loss_goes_through_the_loss_module(model_case):
    model, batch = model_case.model(), model_case.batch()
    inputs = {**batch, **model_case.extra_inputs(batch["input_ids"].shape[0])}
    if model_case.head is not None:
        inputs.update(model_case.targets(batch))
    with torch.no_grad(), _LossCallers() as callers:
        outputs = model(**inputs)
    if getattr(outputs, "loss", None) is None:
        assert callers.files == [], f"{model_case.id} returned no loss but computed one"
        pytest.skip("a backbone without a loss of its own")
    assert callers.files, f"{model_case.id} computed its loss without torch's loss functions"
    assert {Path(file).name for file in callers.files} == {"losses.py"}
    assert all(file.endswith("modeling/losses.py") for file in callers.files)


def test_classification_heads_give_the_entry_points_loss(head_case):
    """A classification or regression head's loss is `classification_loss` of its logits with its config's options."""
    if head_case.head not in ("sequence", "token"):
        pytest.skip("a language-model head: its loss has its own target shift or normalisation")
    model, batch = head_case.model(label_smoothing=0.05), head_case.batch()
    labels = head_case.labels(batch)
    with torch.no_grad():
        outputs = model(**batch, labels=labels)
    config = model.config
    expected = classification_loss(
        outputs.logits,
        labels,
        problem_type=resolve_problem_type(config.num_labels, config.problem_type),
        label_smoothing=0.05,
    )
    torch.testing.assert_close(outputs.loss, expected)
