"""Train a proteinhub model: the entry point of `accelerate launch train.py --config ...`.

    accelerate launch train.py --config configs/quickstart.yaml [--num_train_epochs 2 ...]
    python train.py --config configs/quickstart.yaml
    proteinhub train --config quickstart

Everything lives in `proteinhub.training` (`training/runner.py`): `python train.py --help` lists the options.
"""

import sys

from proteinhub.training import main

if __name__ == "__main__":
    main(sys.argv[1:])
