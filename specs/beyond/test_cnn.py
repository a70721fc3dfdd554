import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.beyond import cnn_shapes, cnn_speed, cnn_train
from impl.data import mnist


@pytest.mark.cpu
def test_shapes_params_accuracy(claim):
    """For any input side n in 1..64, kernel k, padding p in 0..3 and stride s in 1..4 (k <= n + 2p),
    torch's Conv2d and MaxPool2d output sides equal floor((n + 2p - k) / s) + 1. The notes' MNIST CNN
    runs 28 -> 26 -> 13 -> 11 -> 5, flattens to 1,600 and has exactly 121,930 parameters in both
    PyTorch and Keras. Two stacked 3x3 convolutions see a 5x5 input region and three see 7x7 (the
    support of the centre output's input gradient), with 27 C^2 weights for three against 49 C^2 for
    one 7x7 layer. One LSTM layer has 4 (h (i + h) + 2h) parameters in torch and 4 (h (i + h) + h) in
    Keras (i = 3, h = 8: 416 and 384). The personal notes' Dense 100-1-100-50 model on 50 inputs has
    10,451 parameters and, with no activations, a Jacobian of rank 1. The CNN reaches >= 0.95 test
    accuracy after 3 epochs on the 4,000-image MNIST subset (tested on a 1,000-image test subset).

    Course: beyond the course (AI-wiki digests: the CNN in Keras and PyTorch; syllabus: padding,
    stride, receptive field, parameter counts; personal notes: the Keras bottleneck example).
    """
    import torch
    from torch import nn

    @settings(max_examples=50)
    @given(n=st.integers(1, 64), k=st.integers(1, 7), p=st.integers(0, 3), s=st.integers(1, 4))
    def sizes(n, k, p, s):
        if k > n + 2 * p:
            return
        expected = (n + 2 * p - k) // s + 1
        assert cnn_shapes.conv_output_size(n, k, p, s) == expected
        x = torch.zeros(1, 1, n, n)
        assert nn.Conv2d(1, 1, k, stride=s, padding=p)(x).shape[-1] == expected
        if p <= k // 2:  # torch's pools allow padding up to half the kernel
            assert nn.MaxPool2d(k, stride=s, padding=p)(x).shape[-1] == expected

    sizes()
    model = cnn_shapes.notes_cnn_torch(0)
    shapes = cnn_shapes.torch_feature_shapes(model, 28)
    claim.record(feature_shapes=[[name, list(shape)] for name, shape in shapes])
    claim.expect("spatial_sides", [shape[-1] for _, shape in shapes[:4]], "==", [26, 13, 11, 5])
    claim.expect("flatten_width", shapes[-1][1][0], "==", 1600)
    claim.expect("torch_params", sum(p.numel() for p in model.parameters()), "==", 121_930)
    claim.expect("keras_params", cnn_shapes.notes_cnn_keras(0).count_params(), "==", 121_930)

    fields = {n: cnn_shapes.receptive_field(n, 4) for n in (1, 2, 3)}
    claim.expect("receptive_field_sides", [fields[n][0] for n in (1, 2, 3)], "==", [3, 5, 7])
    claim.expect("three_3x3_weights_over_c2", fields[3][1] / 16, "==", 27)
    claim.expect("one_7x7_weights_over_c2", nn.Conv2d(4, 4, 7, bias=False).weight.numel() / 16, "==", 49)
    claim.expect("lstm_params_torch_keras", list(cnn_shapes.lstm_param_counts(3, 8)), "==",
                 [4 * (8 * 11 + 16), 4 * (8 * 11 + 8)])

    bottleneck = cnn_shapes.bottleneck_keras()
    claim.expect("bottleneck_params", bottleneck.count_params(), "==", 10_451)
    weights = [layer.get_weights()[0] for layer in bottleneck.layers]
    jacobian = weights[0] @ weights[1] @ weights[2] @ weights[3]  # linear layers: the Jacobian is the product
    claim.expect("bottleneck_jacobian_rank", int(np.linalg.matrix_rank(jacobian)), "==", 1)

    train, test = mnist.subset("train", 4000, 0), mnist.subset("test", 1000, 0)
    result = cnn_train.train_notes_cnn(train.X, train.y, 3, 64, 3e-3, seed=0)
    accuracy = cnn_train.accuracy(result.model, test.X, test.y)
    claim.record(train_seconds=result.train_seconds)
    claim.expect("test_accuracy_3_epochs_mnist5k", accuracy, ">=", "min_accuracy_mnist5k")


@pytest.mark.cpu
@pytest.mark.flag("F46")
@pytest.mark.known_refuted("keras_flatten_width",
                           source="the CNN's flatten layer turns the 13 x 13 x 32 feature maps into 5,408 values")
def test_notes_flatten_5408(claim):
    """As the notes' CNN walkthrough has it: the model's flatten layer turns the 13 x 13 x 32 feature
    maps into a vector of 5,408 values.

    Known refuted at `keras_flatten_width`: the notes' own model has a second conv block, so the
    flatten sees 5 x 5 x 64 values. Checked beside it: 13 x 13 x 32 is indeed the first block's
    output in that model (where the notes' number comes from), and PyTorch's copy of the model
    flattens to the same width as Keras's.
    Course: beyond the course (AI-wiki digests: the CNN walkthrough).
    """
    keras_model = cnn_shapes.notes_cnn_keras(0)
    widths = [int(layer.output.shape[-1]) for layer in keras_model.layers if type(layer).__name__ == "Flatten"]
    first_block = [tuple(layer.output.shape[1:]) for layer in keras_model.layers if type(layer).__name__ == "MaxPooling2D"][0]
    torch_width = dict(cnn_shapes.torch_feature_shapes(cnn_shapes.notes_cnn_torch(0), 28))["Flatten"][0]
    claim.record(keras_flatten_widths=widths)
    claim.expect("keras_first_block_output", list(first_block), "==", [13, 13, 32])
    claim.expect("torch_equals_keras_flatten_width", torch_width, "==", widths[0])
    claim.expect("keras_flatten_width", widths[0], "==", 5408)


@pytest.mark.cpu
@pytest.mark.flag("F46")
def test_flatten_1600(claim):
    """The notes' CNN (two conv 3x3 + max-pool 2 blocks on 28 x 28 inputs) flattens 5 x 5 x 64 = 1,600
    values in both Keras and PyTorch, and its first dense layer has 1,600 x 64 + 64 = 102,464
    parameters; 13 x 13 x 32 = 5,408 is the size after the first block.

    Course: beyond the course (AI-wiki digests: the CNN walkthrough, corrected).
    """
    keras_model = cnn_shapes.notes_cnn_keras(0)
    keras_shapes = {type(layer).__name__ + str(i): tuple(layer.output.shape[1:]) for i, layer in enumerate(keras_model.layers)}
    claim.record(keras_shapes={name: list(shape) for name, shape in keras_shapes.items()})
    claim.expect("keras_after_first_block", list(keras_shapes["MaxPooling2D1"]), "==", [13, 13, 32])
    claim.expect("keras_flatten_width", keras_shapes["Flatten4"][0], "==", 1600)
    torch_shapes = dict(cnn_shapes.torch_feature_shapes(cnn_shapes.notes_cnn_torch(0), 28))
    claim.expect("torch_flatten_width", torch_shapes["Flatten"][0], "==", 1600)
    claim.expect("first_dense_params", keras_model.layers[5].count_params(), "==", 102_464)


@pytest.mark.cpu
@pytest.mark.slow
@pytest.mark.perf
def test_time_to_99(claim):
    """The notes' MNIST CNN (121,930 parameters, unchanged) trains to >= 99% test accuracy on full
    MNIST (60,000 training images, official 10,000 test images) on 2 CPU threads with Adam and a
    one-cycle schedule (peak lr 4e-3, batch 128) on images converted to one channels-last tensor
    once, for as few epochs as the DVC stage `b_cnn_recipe` chose on validation data: a stratified
    10,000 of the training images held out, candidates 1 to 5 epochs tried in order, the first whose
    validation accuracy clears 99% by one standard error (0.1 pp) is the recipe (the spec checks one did).
    The test set is read once, by the final model. The same network in the notes' Keras style
    (`compile` + `model.fit`, Adam 1e-3, batch 64, 5 epochs) is timed per step in windows interleaved
    with ours and extrapolated to its recipe.

    Time is reported, not asserted: our training seconds and the Keras recipe's extrapolated seconds
    are recorded beside the 60 s benchmark target (with the runs' robust CVs, which say how quiet the
    host was). Runs in a fresh process with threads pinned (see impl.beyond.cnn_speed).
    Course: beyond the course (AI-wiki digests: the CNN in Keras and PyTorch, "98-99%"; house
    performance protocol).
    """
    import json

    from impl.pipeline import artifacts

    artifacts.require("data/prepared/mnist.npz")  # the measuring process only reads it
    recipe = json.loads(artifacts.require("data/models/beyond/cnn_recipe.json").read_text())
    claim.use_seed(recipe["seed"])
    claim.record(recipe_val_accuracy=recipe["val_accuracy"], recipe_num_epochs=recipe["num_epochs"],
                 recipe_num_val=recipe["num_val"])
    claim.expect("recipe_cleared_on_validation", recipe["cleared"], "==", True)
    result = cnn_speed.measure_in_fresh_process(recipe["num_epochs"], recipe["batch_size"], recipe["max_lr"],
                                                claim.t["keras_epochs"], claim.t["keras_batch_size"],
                                                claim.t["window_steps"], claim.t["rounds"])
    claim.record(**{key: value for key, value in result.items() if key != "per_step_s"}, per_step_s=result["per_step_s"],
                 benchmark_target_seconds=claim.t["benchmark_seconds"],
                 host_quiet=max(result["ours_window_cv"], result["comparison_cv"]) <= claim.t["max_cv"])
    claim.plot("Training time on full MNIST, 2 threads (benchmark target dashed)",
               ["ours to 99% (measured)", "Keras model.fit recipe (extrapolated)"],
               {"seconds": [result["ours_train_seconds"], result["keras_recipe_seconds"]]}, kind="bar", ylabel="seconds",
               hline=float(claim.t["benchmark_seconds"]))
    claim.expect("ours_test_accuracy", result["ours_test_accuracy"], ">=", "min_accuracy")
