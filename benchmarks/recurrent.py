"""Inference speed of UniRep's mLSTM (our `MLSTMLayer`) against `torch.nn.LSTM` of the same width (fused kernel).

    python benchmarks/recurrent.py [--hidden 1900] [--batch 32] [--length 128] [--repeats 3] [--json PATH]

Residues per second of one layer over a (batch, length, 10) input (UniRep's 10-wide embedding), `torch.no_grad()`,
one thread (`OMP_NUM_THREADS=1`, as everywhere on the 2-core CI machine); best of `--repeats`. Rows: our mLSTM as
shipped (input projections of all steps precomputed in one matmul each, weight norm once per call, the three
sigmoid gates fused, `addmm`/`addcmul` per step); the same recurrence written naively (per-step input projections
and weight norm, one sigmoid per gate: what a direct transcription of UniRep's cell does); and `nn.LSTM`. The issue's
goal: mLSTM >= 0.5 x nn.LSTM.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from proteinhub.modeling.unirep.modeling_unirep import MLSTMLayer, _l2_normalize_columns


def naive_mlstm(layer: MLSTMLayer, inputs: torch.Tensor) -> torch.Tensor:
    """A direct per-step transcription of UniRep's mLSTMCell (the slow baseline)."""
    hidden = layer.hidden_size
    h = inputs.new_zeros(inputs.shape[0], hidden)
    c = torch.zeros_like(h)
    outputs = []
    for t in range(inputs.shape[1]):
        wx, wh = _l2_normalize_columns(layer.wx, layer.gx), _l2_normalize_columns(layer.wh, layer.gh)
        wmx, wmh = _l2_normalize_columns(layer.wmx, layer.gmx), _l2_normalize_columns(layer.wmh, layer.gmh)
        x = inputs[:, t]
        m = (x @ wmx) * (h @ wmh)
        i, f, o, u = (x @ wx + m @ wh + layer.b).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(u)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, 1)


def residues_per_second(function, inputs: torch.Tensor, repeats: int) -> float:
    with torch.no_grad():
        function(inputs[:, :4])  # warm-up
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            function(inputs)
            best = min(best, time.perf_counter() - start)
    return inputs.shape[0] * inputs.shape[1] / best


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=1900)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    inputs = torch.randn(args.batch, args.length, 10)
    mlstm = MLSTMLayer(10, args.hidden)
    for parameter in mlstm.parameters():
        torch.nn.init.normal_(parameter, std=0.02)
    lstm = torch.nn.LSTM(10, args.hidden, batch_first=True)
    state = inputs.new_zeros(args.batch, args.hidden)
    rows = {
        "mlstm (ours)": residues_per_second(
            lambda x: mlstm(x, None, state[: len(x)], state[: len(x)])[0], inputs, args.repeats
        ),
        "mlstm (naive per-step)": residues_per_second(lambda x: naive_mlstm(mlstm, x), inputs, args.repeats),
        "nn.LSTM (fused)": residues_per_second(lambda x: lstm(x)[0], inputs, args.repeats),
    }
    result = {
        "hidden": args.hidden,
        "batch": args.batch,
        "length": args.length,
        "threads": torch.get_num_threads(),
        "residues_per_second": rows,
        "mlstm_over_lstm": rows["mlstm (ours)"] / rows["nn.LSTM (fused)"],
        "naive_over_lstm": rows["mlstm (naive per-step)"] / rows["nn.LSTM (fused)"],
    }
    for name, value in rows.items():
        print(f"{name:24s} {value:10.0f} residues/s")
    print(f"mLSTM / nn.LSTM = {result['mlstm_over_lstm']:.2f} (naive: {result['naive_over_lstm']:.2f})")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
