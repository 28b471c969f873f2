"""The common model battery (transformers' ModelTesterMixin, timm's registry-driven tests).

Every test here runs on every model class (`model_case`), every classification head (`head_case`) or every family
(`family_cases`) registered in `proteinhub.modeling.FAMILIES`, with the tiny configs of `tests/model_testers.py`
(see `tests/conftest.py` for the parametrisation). A new family is tested the moment it is registered.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import pytest
import torch
import transformers.modeling_utils
from proteinhub.modeling import FAMILIES
from proteinhub.modeling.losses import IGNORE_INDEX
from proteinhub.modeling.registry import AUTO_CLASSES
from proteinhub.tokenization import ProteinTokenizer
from torch.nn.modules.batchnorm import _BatchNorm
from transformers import AutoConfig, AutoTokenizer


def _forward(model, batch: dict[str, torch.Tensor], case) -> torch.Tensor:
    with torch.no_grad():
        return case.main_output(model(**batch))


def _assert_same_outputs(actual: torch.Tensor, expected: torch.Tensor, name: str = "") -> None:
    """Equal up to the last bit of float32: weights loaded from a safetensors file are not 64-byte aligned
    (measured: offsets of 12-60 bytes), and the vectorised conv/batch-norm kernels then round differently (7e-9
    measured on a phosphosite VGG), although `torch.equal` holds for every weight."""
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-6, msg=lambda message: f"{name}: {message}")


def _save_with_tokenizer(case, model, path: Path) -> None:
    model.save_pretrained(path)
    case.tokenizer().save_pretrained(path)


# registry


def test_every_registered_family_has_a_tester(model_testers):
    missing = sorted(set(FAMILIES) - set(model_testers.TESTERS))
    assert not missing, f"families without a tiny test config in tests/model_testers.py TESTERS: {missing}"
    stale = sorted(set(model_testers.TESTERS) - set(FAMILIES))
    assert not stale, f"TESTERS entries for model types that no family registers: {stale}"


# configuration and serialisation


def test_config_round_trip(model_case, tmp_path):
    config = model_case.config()
    for key, value in model_case.require_tester().config_kwargs.items():
        assert getattr(config, key) == value, f"config field {key} was not kept"
    expected = config.to_dict()
    assert type(config).from_dict(expected).to_dict() == expected

    config.save_pretrained(tmp_path)
    for loaded in (type(config).from_pretrained(tmp_path), AutoConfig.from_pretrained(tmp_path)):
        assert type(loaded) is type(config)
        assert {**loaded.to_dict(), "_name_or_path": ""} == expected
        assert loaded.id2label == config.id2label


def test_save_load_gives_identical_outputs(model_case, tmp_path):
    model, batch = model_case.model(), model_case.batch()
    expected = _forward(model, batch, model_case)
    model.save_pretrained(tmp_path)

    loaded, info = model_case.model_class.from_pretrained(tmp_path, output_loading_info=True)
    assert not any(info[key] for key in ("missing_keys", "unexpected_keys", "mismatched_keys")), info
    assert not loaded.training, "from_pretrained must return the model in eval mode"
    reloaded_state = loaded.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(reloaded_state[name], tensor), name
    _assert_same_outputs(_forward(loaded, batch, model_case), expected)


def test_auto_classes_load_the_saved_folder(model_case, tmp_path):
    model, batch = model_case.model(), model_case.batch()
    _save_with_tokenizer(model_case, model, tmp_path)

    assert type(AutoConfig.from_pretrained(tmp_path)) is model_case.family.config_class
    loaded = AUTO_CLASSES[model_case.auto_name].from_pretrained(tmp_path)
    assert type(loaded) is model_case.model_class
    _assert_same_outputs(_forward(loaded, batch, model_case), _forward(model, batch, model_case))

    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(tokenizer, ProteinTokenizer)
    assert (tokenizer.prepend_cls, tokenizer.append_eos) == (model.config.prepend_cls, model.config.append_eos)
    encoding = tokenizer(model_case.sequences, padding=True, return_tensors="pt")
    assert torch.equal(encoding["input_ids"], batch["input_ids"])


# Runs in a fresh interpreter: `-I` drops PYTHONPATH and the working directory from sys.path, but the editable
# install's import hook (a .pth file in site-packages) still finds proteinhub, so a meta-path finder refuses it.
_REMOTE_LOADER = textwrap.dedent(
    """
    import importlib.abc, json, sys, traceback

    class BlockProteinhub(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "proteinhub" or name.startswith("proteinhub."):
                raise ModuleNotFoundError(f"{name} is blocked: remote code must load without proteinhub")
            return None

    sys.meta_path.insert(0, BlockProteinhub())
    try:
        import proteinhub
    except ImportError:
        pass
    else:
        sys.exit("proteinhub is importable in the subprocess, so the test would prove nothing")

    import torch
    import transformers

    job = json.loads(open(sys.argv[1]).read())
    report, outputs = {}, {}
    for name, entry in job["models"].items():
        try:
            auto_class = getattr(transformers, entry["auto_class"])
            model = auto_class.from_pretrained(entry["path"], trust_remote_code=True).eval()
            tokenizer = transformers.AutoTokenizer.from_pretrained(entry["path"], trust_remote_code=True)
            encoding = tokenizer(job["sequences"][name], padding=True, return_tensors="pt")
            with torch.no_grad():
                result = model(input_ids=encoding["input_ids"], attention_mask=encoding["attention_mask"])
            logits = getattr(result, "logits", None)
            outputs[name] = {
                "input_ids": encoding["input_ids"],
                "output": logits if logits is not None else result.last_hidden_state,
            }
            report[name] = {"model": type(model).__module__ + "." + type(model).__name__,
                            "tokenizer": type(tokenizer).__module__ + "." + type(tokenizer).__name__}
        except Exception:
            report[name] = {"error": traceback.format_exc()}
    report["proteinhub modules"] = sorted(m for m in sys.modules if m.split(".")[0] == "proteinhub")
    torch.save(outputs, job["outputs"])
    open(job["report"], "w").write(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def remote_code_run(model_testers, tmp_path_factory) -> dict:
    """Saves every class of every family as remote code, then loads them all in ONE subprocess (the interpreter,
    torch and transformers start-up take ~5 s) without proteinhub; returns the process, its report and outputs."""
    root = tmp_path_factory.mktemp("remote_code")
    job = {"models": {}, "outputs": str(root / "outputs.pt"), "report": str(root / "report.json")}
    expected, save_errors = {}, {}
    cases = [case for case in model_testers.model_cases() if case.tester is not None]
    job["sequences"] = {case.id: case.sequences for case in cases}
    # register_for_auto_class sets a class attribute that other tests must not see: restore it afterwards
    registered = [ProteinTokenizer, *(case.model_class for case in cases)]
    saved_auto_classes = {cls: cls.__dict__.get("_auto_class") for cls in registered}
    try:
        ProteinTokenizer.register_for_auto_class("AutoTokenizer")
        for case in cases:
            case.model_class.register_for_auto_class(case.auto_name)
            model, path = case.model(), root / case.id
            try:
                _save_with_tokenizer(case, model, path)
            except Exception:  # reported by that family's test; the other families still run
                save_errors[case.id] = traceback.format_exc()
                continue
            batch = case.batch()
            expected[case.id] = (batch["input_ids"], _forward(model, batch, case))
            job["models"][case.id] = {"auto_class": case.auto_name, "path": str(path)}
    finally:
        for cls, auto_class in saved_auto_classes.items():
            cls._auto_class = auto_class
    (root / "job.json").write_text(json.dumps(job))
    (root / "loader.py").write_text(_REMOTE_LOADER)

    env = {**os.environ, "HF_HOME": str(root / "hf_home"), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    process = subprocess.run(
        [sys.executable, "-I", str(root / "loader.py"), str(root / "job.json")],
        cwd=root,  # outside the repository, whose root is the proteinhub package
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(Path(job["report"]).read_text()) if process.returncode == 0 else {}
    outputs = torch.load(job["outputs"]) if process.returncode == 0 else {}
    return {
        "process": process,
        "report": report,
        "outputs": outputs,
        "expected": expected,
        "save_errors": save_errors,
        "root": root,
    }


def test_trust_remote_code_loads_without_proteinhub(family_cases, remote_code_run):
    """`trust_remote_code=True` loads every class, and its tokenizer, where proteinhub cannot be imported."""
    process = remote_code_run["process"]
    assert process.returncode == 0, process.stderr[-3000:]
    report, outputs = remote_code_run["report"], remote_code_run["outputs"]
    assert report["proteinhub modules"] == [], "the subprocess imported proteinhub"
    for case in family_cases:
        case.require_tester()
        assert case.id not in remote_code_run["save_errors"], remote_code_run["save_errors"].get(case.id)
        config = json.loads((remote_code_run["root"] / case.id / "config.json").read_text())
        assert set(config.get("auto_map", {})) == {"AutoConfig", case.auto_name}, config.get("auto_map")
        entry = report[case.id]
        assert "error" not in entry, f"{case.id} did not load as remote code:\n{entry.get('error')}"
        model_name = entry["model"]
        assert model_name.startswith("transformers_modules.") and model_name.endswith(f".{case.model_class.__name__}")
        assert entry["tokenizer"].startswith("transformers_modules.")
        assert entry["tokenizer"].endswith(".ProteinTokenizer")
        input_ids, output = remote_code_run["expected"][case.id]
        assert torch.equal(outputs[case.id]["input_ids"], input_ids), case.id
        _assert_same_outputs(outputs[case.id]["output"], output, case.id)


def test_remote_code_registration_does_not_leak(model_testers, remote_code_run):
    """The fixture above put every `_auto_class` back, so other tests save plain checkpoints."""
    leaked = [case.id for case in model_testers.model_cases() if case.model_class._auto_class is not None]
    assert not leaked and ProteinTokenizer._auto_class is None, leaked


# forward pass


def test_output_shapes(model_case):
    model, batch = model_case.model(), model_case.batch()
    batch_size, length = batch["input_ids"].shape
    outputs = model(**batch, output_hidden_states=True)
    spec = model_case.head_spec
    if spec is not None:
        expected = spec.logits_shape(model.config, batch_size, length)
    else:
        expected = (batch_size, length, model.config.hidden_size)
    assert tuple(model_case.main_output(outputs).shape) == expected
    # window classifiers return no per-position features; models that do must keep (batch, length)
    for hidden in outputs.hidden_states or ():
        assert tuple(hidden.shape[:2]) == (batch_size, length)
    if model_case.head is not None:
        loss = model(**batch, **model_case.targets(batch)).loss
        assert loss.dim() == 0 and torch.isfinite(loss)


def test_padding_invariance(model_case):
    """A padded batch gives each protein the outputs it gets alone (for a model reproducing an original without a
    padding mask: each protein that got no padding)."""
    model, batch = model_case.model(), model_case.batch()
    padded = _forward(model, batch, model_case)
    unpadded = batch["attention_mask"].all(-1).tolist()
    for index, sequence in enumerate(model_case.sequences):
        if not (model_case.require_tester().padding_invariant or unpadded[index]):
            continue
        alone = _forward(model, model_case.batch([sequence]), model_case)[0]
        if model_case.head == "sequence":
            torch.testing.assert_close(padded[index], alone, atol=1e-5, rtol=0)
        else:
            length = int(batch["attention_mask"][index].sum())
            assert alone.shape[0] == length
            torch.testing.assert_close(padded[index, :length], alone, atol=1e-5, rtol=0)


# training


def test_overfits_one_batch(head_case):
    """40 Adam steps fit one batch of random labels: the loss drops and every prediction is right.

    Not "loss < half": the phosphosite CNN-RNNs end in a tanh-bounded RNN unit (as in the paper), so their logit
    stays in [-1, 1] and BCE cannot fall below log(1 + e^-1) = 0.31, 45% of the initial 0.69.
    """
    model, batch = head_case.model(), head_case.batch()
    targets = head_case.targets(batch)
    labels = targets["labels"]
    with torch.no_grad():
        initial = model(**batch, **targets).loss.item()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        optimizer.zero_grad()
        model(**batch, **targets).loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        outputs = model(**batch, **targets)
    final = outputs.loss.item()
    assert final < 0.7 * initial, f"loss went from {initial:.4f} to {final:.4f} in 40 steps on one batch"
    logits = outputs.logits
    predictions = (logits[..., 0] > 0).to(labels.dtype) if logits.shape[-1] == 1 else logits.argmax(-1)
    shift = head_case.head_spec.shift
    if shift:
        # a causal LM predicts the label at t + shift from positions <= t; its first prediction sees only the
        # leading token, the same for every protein, so it cannot fit their different random labels
        predictions, labels = predictions[:, :-shift], labels[:, shift:]
        labels = labels.clone()
        labels[:, 0] = IGNORE_INDEX
    scored = labels != IGNORE_INDEX
    assert torch.equal(predictions[scored], labels[scored]), "the model did not fit the batch it trained on"


def test_gradients_reach_every_parameter(model_case):
    model, batch = model_case.model().train(), model_case.batch()
    model_case.loss(model, batch).backward()
    # whole tensors: the padding row of an embedding legitimately gets no gradient
    starved = [
        name
        for name, parameter in model.named_parameters()
        if parameter.requires_grad and (parameter.grad is None or not parameter.grad.any())
    ]
    assert not starved, f"parameters without gradient: {starved}"


def test_activation_checkpointing_gives_the_same_gradients(model_case, monkeypatch):
    if not model_case.model_class.supports_gradient_checkpointing:
        pytest.skip(f"{model_case.id} does not support activation checkpointing")
    batch = model_case.batch()

    def gradients(checkpointing: bool) -> dict[str, torch.Tensor]:
        model = model_case.model().train()
        if checkpointing:
            model.activation_checkpointing_enable()
            assert model.is_activation_checkpointing
        torch.manual_seed(1)  # same dropout masks; checkpoint replays the RNG state on recompute
        model_case.loss(model, batch).backward()
        return {name: parameter.grad for name, parameter in model.named_parameters()}

    calls = []
    checkpoint = transformers.modeling_utils.checkpoint

    def counting_checkpoint(function, *args, **kwargs):
        calls.append(function)
        return checkpoint(function, *args, **kwargs)

    monkeypatch.setattr(transformers.modeling_utils, "checkpoint", counting_checkpoint)
    reference = gradients(checkpointing=False)
    assert not calls
    checkpointed = gradients(checkpointing=True)
    assert calls, "activation_checkpointing_enable() checkpointed no block (no GradientCheckpointingLayer?)"
    different = [
        name for name, gradient in reference.items() if not torch.allclose(checkpointed[name], gradient, atol=1e-6)
    ]
    assert not different, f"activation checkpointing changed the gradients of {different}"


def test_trainer_step(head_case, tmp_path):
    from datasets import Dataset
    from transformers import (
        DataCollatorForTokenClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    tokenizer, model = head_case.tokenizer(), head_case.model()
    rows = []
    for index, sequence in enumerate(head_case.sequences):
        encoding = tokenizer(sequence, return_tensors="pt")
        extra = {**head_case.targets(encoding, seed=index), **head_case.extra_inputs(1, seed=index)}
        rows.append({"input_ids": encoding["input_ids"][0].tolist(), **{k: v[0].tolist() for k, v in extra.items()}})
    per_token = head_case.head_spec.per_token
    collator = (DataCollatorForTokenClassification if per_token else DataCollatorWithPadding)(tokenizer)
    args = TrainingArguments(
        output_dir=str(tmp_path),
        use_cpu=True,
        max_steps=1,
        per_device_train_batch_size=len(rows),
        learning_rate=1e-2,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
    )
    before = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        data_collator=collator,
        processing_class=tokenizer,
    )
    result = trainer.train()
    assert trainer.state.global_step == 1
    assert math.isfinite(result.training_loss) and result.training_loss > 0
    unchanged = [name for name, parameter in model.named_parameters() if torch.equal(parameter, before[name])]
    assert not unchanged, f"one Trainer step left these parameters unchanged: {unchanged}"


@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")  # peft calls it
def test_lora_train_save_reload_merge(head_case, tmp_path):
    from peft import LoraConfig, PeftModel, get_peft_model
    from peft.tuners.lora import LoraLayer

    model, batch = head_case.model(), head_case.batch()
    model.save_pretrained(tmp_path / "base")
    # families give plain module names ("conv") or regular expressions (r".*convs\.\d+\.0"); one regex takes both
    patterns = head_case.family.lora_target_modules
    names = [name for name, _ in model.named_modules()]
    unmatched = [p for p in patterns if not any(re.fullmatch(rf"(?:.*\.)?(?:{p})", name) for name in names)]
    assert not unmatched, f"lora_target_modules of {head_case.family.model_type} match no module: {unmatched}"
    target_regex = head_case.family.lora_target_regex
    # training updates batch-norm running statistics, which live outside the adapter unless the layers are saved
    # with it (peft's advice for batch-norm models); without this a reloaded adapter gives other outputs
    batch_norms = [name for name, module in model.named_modules() if isinstance(module, _BatchNorm)]
    config = LoraConfig(r=4, lora_alpha=8, target_modules=target_regex, modules_to_save=["classifier", *batch_norms])
    peft_model = get_peft_model(model, config)
    assert any(isinstance(module, LoraLayer) for module in peft_model.modules())

    base_output = _forward(peft_model, batch, head_case)
    peft_model.train()
    optimizer = torch.optim.Adam([p for p in peft_model.parameters() if p.requires_grad], lr=1e-2)
    targets = head_case.targets(batch)
    for _ in range(2):
        optimizer.zero_grad()
        peft_model(**batch, **targets).loss.backward()
        optimizer.step()
    peft_model.eval()
    expected = _forward(peft_model, batch, head_case)
    assert not torch.allclose(expected, base_output), "training the adapter changed nothing"
    peft_model.save_pretrained(tmp_path / "adapter")

    base = head_case.model_class.from_pretrained(tmp_path / "base")
    reloaded = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    torch.testing.assert_close(_forward(reloaded, batch, head_case), expected, atol=1e-5, rtol=0)
    merged = reloaded.merge_and_unload()
    assert type(merged) is head_case.model_class
    torch.testing.assert_close(_forward(merged, batch, head_case), expected, atol=1e-5, rtol=0)


def test_pipeline(head_case, tmp_path):
    from transformers import pipeline

    if head_case.head_spec.pipeline is None:
        pytest.skip(f"no transformers pipeline serves the {head_case.head} head")
    model = head_case.model()
    _save_with_tokenizer(head_case, model, tmp_path)
    id2label = model.config.id2label
    sequences = head_case.sequences
    if head_case.head == "sequence":
        classifier = pipeline(head_case.head_spec.pipeline, model=str(tmp_path), device="cpu")
        # the pipeline runs one protein at a time
        logits = torch.cat([_forward(model, head_case.batch([sequence]), head_case) for sequence in sequences])
        # the pipeline's own rule: sigmoid for one logit or multi-label, softmax otherwise
        probabilities = logits.sigmoid() if logits.shape[-1] == 1 else logits.softmax(-1)
        predictions = classifier(sequences)
        assert [p["label"] for p in predictions] == [id2label[i] for i in logits.argmax(-1).tolist()]
        for expected, scores in zip(probabilities, classifier(sequences, top_k=None)):
            by_label = {score["label"]: score["score"] for score in scores}
            assert sorted(by_label) == sorted(id2label.values())
            for index, label in id2label.items():
                assert math.isclose(by_label[label], float(expected[index]), abs_tol=1e-6), label
        return

    tagger = pipeline(head_case.head_spec.pipeline, model=str(tmp_path), device="cpu")
    leading = head_case.tokenizer().num_leading_special_tokens
    for sequence, entities in zip(sequences, tagger(sequences)):
        logits = _forward(model, head_case.batch([sequence]), head_case)[0]
        assert len(entities) == len(sequence), "one prediction per residue"
        for position, entity in enumerate(entities):
            assert (entity["start"], entity["end"], entity["word"]) == (position, position + 1, sequence[position])
            assert entity["index"] == position + leading
            assert entity["entity"] == id2label[int(logits[position + leading].argmax())]
            assert 0.0 <= entity["score"] <= 1.0


# loading checks


def test_wrong_head_class_is_refused(family_cases, tmp_path):
    heads = {case.head: case for case in family_cases if case.head in ("sequence", "token")}
    if len(heads) < 2:
        pytest.skip("the family lacks a sequence or a token classification head")
    for saved, requested in ((heads["sequence"], heads["token"]), (heads["token"], heads["sequence"])):
        path = tmp_path / saved.id
        model = saved.model()
        model.save_pretrained(path)
        with pytest.raises(ValueError, match=rf"{saved.id}.*allow_new_head=True"):
            requested.model_class.from_pretrained(path)
        # as train.py does: a new head may have another input width (e.g. per-residue vs per-protein features)
        loaded = requested.model_class.from_pretrained(path, allow_new_head=True, ignore_mismatched_sizes=True)
        assert type(loaded) is requested.model_class
        prefix = model.base_model_prefix
        saved_backbone = model.base_model.state_dict()
        loaded_backbone = loaded.base_model.state_dict()
        # a head may prune backbone weights it cannot use (as BERT's token heads drop the pooler): compare the shared
        # ones, which must cover the smaller of the two backbones
        shared = saved_backbone.keys() & loaded_backbone.keys()
        assert len(shared) == min(len(saved_backbone), len(loaded_backbone)), "the backbones differ beyond pruning"
        for name in shared:
            assert torch.equal(loaded_backbone[name], saved_backbone[name]), f"{prefix}.{name} was not loaded"


def test_checkpoint_of_another_model_type_is_refused(model_case, tmp_path):
    model_case.model().save_pretrained(tmp_path)
    config_file = tmp_path / "config.json"
    config = json.loads(config_file.read_text())
    config["model_type"] = "bert"
    config_file.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=rf"`bert`.*{model_case.model_class.__name__}"):
        model_case.model_class.from_pretrained(tmp_path)


@pytest.mark.parametrize("cut", ["last_8_bytes", "half"])
def test_truncated_weights_raise_oserror_naming_the_path(model_case, tmp_path, cut):
    model_case.model().save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    size = weights.stat().st_size
    with weights.open("r+b") as handle:
        handle.truncate(size - 8 if cut == "last_8_bytes" else size // 2)
    with pytest.raises(OSError, match=re.escape(str(tmp_path))):
        model_case.model_class.from_pretrained(tmp_path)
