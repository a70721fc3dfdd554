"""One knob vocabulary across lessons: the same quantity has the same name in every `params.yaml` and in every
stage's tiny knobs, so a reader (or a `make tune` override) never has to learn a lesson's dialect.

- A number of images or rows drawn for a part is `<part>_size`: `train_size`, `val_size`, `test_size`,
  `calibration_size` (not `n_train`, `n_val`, `n_test`, `n_calibration`, `validation_size`).
- A number of epochs is `num_epochs`; `<model>_epochs` where one stage trains several models
  (`cnn_epochs`, `teacher_epochs`), `max_epochs` (or `<model>_max_epochs`) for a ceiling under early stopping,
  `candidate_epochs` for a list tried in turn (not a bare `epochs`, `n_epochs` or `epoch`).

Optuna's own argument names (`n_trials`, `n_startup_trials`, `n_warmup_steps`) stay Optuna's.
"""
import importlib
import re
from pathlib import Path

import pytest
import yaml

from impl import paths
from impl.pipeline import stages

RENAMED = {"n_train": "train_size", "n_val": "val_size", "n_test": "test_size", "n_calibration": "calibration_size",
           "validation_size": "val_size", "n_validation": "val_size", "epochs": "num_epochs", "n_epochs": "num_epochs",
           "epoch": "num_epochs"}
EPOCH_COUNT = re.compile(r"^[a-z]+(_[a-z]+)*_epochs$")  # qualified: num_, max_, <model>_, <model>_max_ ...


def _keys(node, where: str):
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in ("quick", "full"):  # a profile split, not a knob
                yield str(key), f"{where}.{key}"
            yield from _keys(value, f"{where}.{key}")


def _params_files() -> list[Path]:
    return [paths.ROOT / "params.yaml", *sorted((paths.ROOT / "impl").glob("*/params.yaml"))]


def _tiny_knobs() -> list[tuple[str, dict]]:
    found = []
    for stage in stages.all_stages():
        module = importlib.import_module(stage.module) if stage.module else None
        if module is not None and isinstance(getattr(module, "TINY_KNOBS", None), dict):
            found.append((stage.address, module.TINY_KNOBS))
    return found


@pytest.mark.parametrize("path", _params_files(), ids=lambda p: p.relative_to(paths.ROOT).as_posix())
def test_every_params_file_speaks_the_one_vocabulary(path):
    keys = list(_keys(yaml.safe_load(path.read_text()) or {}, path.parent.name))
    wrong = [f"{where}: say {RENAMED[key]}" for key, where in keys if key in RENAMED]
    wrong += [f"{where}: an epoch count is num_epochs or <qualifier>_epochs"
              for key, where in keys if "epoch" in key and key not in RENAMED and not EPOCH_COUNT.match(key)]
    assert not wrong, wrong


def test_every_stages_tiny_knobs_speak_it_too():
    tiny_knobs = _tiny_knobs()
    wrong = [f"{address}: TINY_KNOBS[{key!r}], say {RENAMED[key]}" for address, tiny in tiny_knobs
             for key in tiny if key in RENAMED]
    assert not wrong, wrong
    assert len(tiny_knobs) >= 20  # the stages were found


def test_the_rule_sees_an_old_name():
    keys = dict(_keys({"prepare": {"n_train": {"quick": 1, "full": 2}, "epochs": 1, "mlp_epochs": 3}}, "l9"))
    assert [k for k in keys if k in RENAMED] == ["n_train", "epochs"]
    assert all(EPOCH_COUNT.match(k) for k in ("mlp_epochs", "num_epochs", "student_max_epochs"))
    assert not any(EPOCH_COUNT.match(k) for k in ("epochs", "epochs_per_round", "num_epoch"))
