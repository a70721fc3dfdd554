import json

import numpy as np
import pytest

from impl.beyond import transfer
from impl.data import mnist
from impl.pipeline import artifacts

MODELS, RUNS = "data/models/beyond/transfer_models.pt", "data/models/beyond/transfer_runs.json"


def _load(state: dict, kind: str):
    model = transfer.network(0, kind)
    model.load_state_dict(state)
    return model.eval()


@pytest.mark.cpu
def test_limited_labels(claim):
    """With only 50 labelled images of digits 5-9 (10 per class from the 4,000-image MNIST subset),
    a new linear head (1600 -> 5) fitted on the frozen conv backbone of the notes' CNN beats the
    same architecture trained from scratch on those 50 images by >= 2.5 pp of test accuracy on the
    official test set's 5-9s, mean over seeds 0-4 (one backbone, few-shot draw and initialisation
    per seed). The backbone is pretrained on the subset's digits 0-4 until early stopping on a
    held-out tenth ends it (converged), and classifies the test set's 0-4s with accuracy >= 0.97;
    the head's L2 penalty is chosen by 5-fold cross-validation on the 50 labelled images; the
    scratch network fits its 50 images exactly; the frozen parameters stay bitwise unchanged.

    The catalog's margin of >= 10 pp is a calibration-sensitive estimate (CLAIMS 0.7): over seeds
    10-19 the gain of this recipe sits far below it, so the bar is the calibrated mean - 3 SD of a
    5-seed mean (claims.yaml), still above 0 (transfer helps). Every accuracy is recomputed here
    from the stage's saved weights. This stands in for the notes' hub-pretrained ResNet-50 / BERT,
    which cannot be downloaded offline.
    Course: beyond the course (AI-wiki digests: transfer learning).
    """
    import torch

    models = torch.load(artifacts.require(MODELS), weights_only=True)
    record = json.loads(artifacts.require(RUNS).read_text())
    runs, knobs = record["runs"], record["knobs"]
    test = mnist.load("test")
    source, target = test.y < 5, test.y >= 5
    seeds = [claim.use_seed(s) for s in knobs["seeds"]]
    claim.expect("num_seeds", len(seeds), ">=", "min_seeds")
    pool = mnist.subset("train", knobs["pool_size"], knobs["split_seed"])
    source_accuracy, probe_accuracy, scratch_accuracy, scratch_fit = [], [], [], []
    for seed in seeds:
        backbone = _load(models[f"{seed}/backbone"], "notes")
        probe = _load(models[f"{seed}/probe"], "probe")
        scratch = _load(models[f"{seed}/scratch"], "notes")
        claim.expect("backbone_bitwise_unchanged", transfer.same_backbone(probe, backbone), "==", True)
        few = np.asarray(runs[str(seed)]["few_shot_indices"])
        scratch_fit.append(transfer.accuracy(scratch, pool.X[few], pool.y[few] - 5))
        source_accuracy.append(transfer.accuracy(backbone, test.X[source], test.y[source]))
        probe_accuracy.append(transfer.accuracy(probe, test.X[target], test.y[target] - 5))
        scratch_accuracy.append(transfer.accuracy(scratch, test.X[target], test.y[target] - 5))
    gains = np.subtract(probe_accuracy, scratch_accuracy)
    claim.record(source_test_accuracy=source_accuracy, probe_accuracy=probe_accuracy, scratch_accuracy=scratch_accuracy,
                 gains=gains, chosen_l2={s: runs[str(s)]["chosen_l2"] for s in seeds},
                 pretrain_best_epoch={s: runs[str(s)]["best_epoch"] for s in seeds},
                 scratch_train_accuracy=scratch_fit,
                 catalog_min_gain=claim.t["catalog_min_gain"])
    curves = {f"seed {s}": runs[str(s)]["pretrain_val_loss"] for s in seeds}
    claim.record(pretrain_val_loss=curves)
    common = min(len(c) for c in curves.values())  # runs stop at different epochs: plot those all ran (all recorded)
    claim.plot("Pretraining on digits 0-4: validation loss per epoch (early stopping keeps the best)",
               list(range(1, common + 1)), {name: c[:common] for name, c in curves.items()},
               xlabel="epoch", ylabel="validation cross-entropy", logy=True)
    claim.plot("Digits 5-9 from 50 labelled images", [f"seed {s}" for s in seeds],
               {"frozen pretrained backbone + linear head": probe_accuracy, "from scratch": scratch_accuracy,
                "backbone on its own task (0-4)": source_accuracy}, kind="bar", ylabel="test accuracy")
    # converged: each pretraining run stopped because `patience` epochs passed without a better validation loss
    claim.expect("pretraining_stopped_by_patience", all(len(runs[str(s)]["pretrain_val_loss"]) - 1 - runs[str(s)]["best_epoch"]
                                                        >= knobs["patience"] for s in seeds), "==", True)
    claim.expect("min_backbone_source_accuracy", min(source_accuracy), ">=", "min_source_accuracy")
    claim.expect("scratch_fits_its_50_images", min(scratch_fit), "==", 1.0)
    claim.expect("mean_gain_over_scratch", float(np.mean(gains)), ">=", "min_gain")
