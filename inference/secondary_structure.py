"""The `secondary-structure` pipeline task: whole proteins in, per-residue 3-state secondary structure out.

`import proteinhub.inference.pipelines` registers the task with transformers (with the other pipeline tasks):

>>> import proteinhub.inference.pipelines  # doctest: +SKIP
>>> from transformers import pipeline
>>> predict = pipeline("secondary-structure", model="runs/secondary_structure/bigru-cnn-cpu")  # doctest: +SKIP
>>> predict("MKTAYIAKQRQISFVKSHFSRQ")["secondary_structure"]  # doctest: +SKIP
'CCHHHHHHHHHHHHHHHHHHCC'

It runs any `AutoModelForTokenClassification` whose labels are secondary-structure states (one character each, or
names whose first letters differ). Plain per-residue labels with probabilities come from transformers' own
`pipeline("token-classification", model=...)`.

Long proteins: a protein longer than `chunk_length` residues (default: the model's `config.max_length` minus its
special tokens; no chunking when the model has no length limit) is cut into windows of `chunk_length` residues that
overlap by `overlap` residues (default a quarter of the window), each predicted on its own. Every residue takes its
probabilities from the window in which it lies farthest from a cut: an overlap is split at its middle, so each
residue has at least `overlap // 2` residues of context on the side of the cut.
"""

from __future__ import annotations

from transformers.pipelines.base import ChunkPipeline

from .windowing import chunk_windows, stitch

TASK = "secondary-structure"

# pipeline


class SecondaryStructurePipeline(ChunkPipeline):
    """Per-protein secondary structure: `{"sequence", "secondary_structure", "scores", "probabilities", "labels",
    "chunks"}`.

    - `secondary_structure`: one character per residue, e.g. "CCHHHHEEC" (the first letter of each label name);
    - `scores`: probability of the predicted state per residue; `probabilities`: all states per residue, in the
      order of `labels`; `chunks`: the [start, stop) residue windows the protein was cut into.

    Call parameters: `chunk_length` (residues per window, default from `config.max_length`), `overlap` (residues
    shared by consecutive windows, default `chunk_length // 4`).
    """

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = True

    def _sanitize_parameters(self, chunk_length: int | None = None, overlap: int | None = None, **kwargs):
        preprocess = {}
        if chunk_length is not None:
            preprocess["chunk_length"] = chunk_length
        if overlap is not None:
            preprocess["overlap"] = overlap
        return preprocess, {}, {}

    def _default_chunk_length(self) -> int | None:
        max_length = getattr(self.model.config, "max_length", None)
        if max_length is None:
            return None
        return max_length - self.tokenizer.num_leading_special_tokens - int(self.tokenizer.append_eos)

    def preprocess(self, sequence: str, chunk_length: int | None = None, overlap: int | None = None):
        if not isinstance(sequence, str):
            raise TypeError(f"the secondary-structure pipeline takes protein sequences (str), got {type(sequence)}")
        # the fast tokenizer has no upper-case normaliser: lower-case residues would become <unk>
        sequence = "".join(sequence.split()).upper()
        if not sequence:
            raise ValueError("empty protein sequence")
        chunk_length = chunk_length if chunk_length is not None else self._default_chunk_length()
        if chunk_length is not None and chunk_length < 1:
            raise ValueError(f"chunk_length must be >= 1 residue, got {chunk_length}")
        overlap = overlap if overlap is not None else (chunk_length // 4 if chunk_length else 0)
        windows = chunk_windows(len(sequence), chunk_length, overlap)
        for index, (start, stop) in enumerate(windows):
            encoding = self.tokenizer(sequence[start:stop], return_tensors="pt")
            yield {
                "input_ids": encoding["input_ids"],
                "attention_mask": encoding["attention_mask"],
                "start": start,
                "stop": stop,
                "sequence": sequence,
                "is_last": index == len(windows) - 1,
            }

    def _forward(self, model_inputs: dict) -> dict:
        window = {key: model_inputs.pop(key) for key in ("start", "stop", "sequence", "is_last")}
        logits = self.model(**model_inputs).logits  # (1, tokens, num_labels); eval mode: decoded for the AR head
        return {"logits": logits, **window}

    def postprocess(self, all_outputs: list[dict]) -> dict:
        leading = self.tokenizer.num_leading_special_tokens
        windows, probabilities = [], []
        for output in all_outputs:
            start, stop = int(output["start"]), int(output["stop"])
            logits = output["logits"][0, leading : leading + stop - start].float()
            windows.append((start, stop))
            probabilities.append(logits.softmax(-1))
        stitched = stitch(windows, probabilities)
        scores, states = stitched.max(-1)
        names = [self.model.config.id2label[index] for index in range(stitched.shape[-1])]
        symbols = [str(name)[0].upper() for name in names]
        if len(set(symbols)) != len(symbols):
            raise ValueError(
                f"the model's labels {names} do not have distinct first letters, so they cannot be written as a "
                "secondary-structure string; use pipeline('token-classification') for per-residue labels."
            )
        sequence = all_outputs[0]["sequence"]
        return {
            "sequence": sequence,
            "secondary_structure": "".join(symbols[state] for state in states.tolist()),
            "scores": scores.tolist(),
            "probabilities": stitched.tolist(),
            "labels": names,
            "chunks": windows,
        }
