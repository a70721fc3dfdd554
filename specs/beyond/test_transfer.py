import numpy as np
import pytest

from impl.beyond import transfer
from impl.data import mnist


def _few_shot(labels, per_class, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(5, 10)])


@pytest.mark.cpu
@pytest.mark.xfail(strict=True, reason="measured head-on-frozen-backbone 0.885 / 0.827 / 0.829 vs from scratch "
                                       "0.885 / 0.802 / 0.823 (seeds 0-2): +1.0 pp on average, not >= 10 pp")
def test_limited_labels(claim):
    """With only 50 labelled images of digits 5-9 (10 per class from the 4,000-image MNIST subset),
    a new dense head (1600 -> 64 -> 5, 200 full-batch Adam steps) on the frozen conv backbone of the
    notes' CNN pretrained on the subset's digits 0-4 (2 epochs) beats the same architecture trained
    from scratch on those 50 images (200 steps) by >= 10 pp of test accuracy on the test subset's
    5-9s, mean of seeds 0-2; the frozen parameters stay bitwise unchanged.

    Known refuted as the catalog sizes it: MNIST digits are easy enough that 50 images train the
    small CNN from scratch to about 0.80-0.88, and the 0-4 features add about 1 pp. (Freezing the
    pretrained dense layer too and training only a 64 -> 5 layer does worse: 0.60-0.67.) This stands
    in for the notes' hub-pretrained ResNet-50 / BERT, which cannot be downloaded offline.
    Course: beyond the course (AI-wiki digests: transfer learning).
    """
    import torch

    train, test = mnist.subset("train", 4000, 0), mnist.subset("test", 1000, 0)
    source, target_test = train.y < 5, test.y >= 5
    claim.use_seed(0)
    pretrained = transfer.pretrain(train.X[source], train.y[source], claim.t["pretrain_epochs"], 0)
    frozen_before = {k: v.clone() for k, v in pretrained.state_dict().items()}
    gains, heads, scratch = [], [], []
    for seed in range(claim.t["num_seeds"]):
        claim.use_seed(seed)
        few = _few_shot(train.y, 10, seed)
        head = transfer.fine_tune_head(pretrained, train.X[few], train.y[few] - 5, claim.t["few_shot_steps"], seed)
        fresh = transfer.from_scratch(train.X[few], train.y[few] - 5, claim.t["few_shot_steps"], seed)
        heads.append(transfer.accuracy(head, test.X[target_test], test.y[target_test] - 5))
        scratch.append(transfer.accuracy(fresh, test.X[target_test], test.y[target_test] - 5))
        backbone_unchanged = all(torch.equal(head.state_dict()[k], frozen_before[k]) for k in list(frozen_before)[:4])
        claim.expect("backbone_bitwise_unchanged", backbone_unchanged, "==", True)
        gains.append(heads[-1] - scratch[-1])
    claim.record(head_accuracy=heads, scratch_accuracy=scratch, gains=gains)
    claim.plot("Digits 5-9 from 50 labelled images", [f"seed {s}" for s in range(len(heads))],
               {"frozen pretrained backbone + new head": heads, "from scratch": scratch}, kind="bar", ylabel="test accuracy")
    claim.expect("mean_gain_over_scratch", float(np.mean(gains)), ">=", "min_gain")
