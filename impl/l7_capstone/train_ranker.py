"""DVC stage `train_ranker`: the biased MF of `train_rec` with the L2 penalty per parameter, for ranking.

Same data, factors, optimiser, epochs and Optuna study of lambda on the validation slice of train
(validation RMSE, 10 trials) as `train_rec`, run by the same code; only the penalty differs: lambda
times each parameter's square once (mf.PENALTIES "per_parameter"), so a film's bias is shrunk by how
few ratings it has. The study's best lambda is refitted on all of train. The test ratings are not
read here. Writes data/models/l7_capstone/mf_ranker.pt (state_dict) and mf_ranker.json (trials,
lambda, curves).
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl.l7_capstone import train_rec
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

MODEL_NAME, SUMMARY_NAME = "mf_ranker.pt", "mf_ranker.json"
TINY_KNOBS = train_rec.TINY_KNOBS


def run(knobs: dict, out_dir: Path) -> dict:
    return train_rec.run(knobs, out_dir, outputs=(MODEL_NAME, SUMMARY_NAME), read_test=False)


main = stage_main(run, "l7_capstone", "ranker")

if __name__ == "__main__":
    sys.exit(main())
