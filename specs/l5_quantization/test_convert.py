"""Float conversions preserve the function: PyTorch -> Keras (weights carried), Keras -> TFLite, PyTorch -> ONNX."""
import numpy as np
import pytest

from impl import onnx_tools
from impl.l5_quantization import models, tflite_tools
from impl.l5_quantization.convert_tflite import keras_cnn
from specs.l5_quantization.shared import model_file, softmax


def _test_images(n: int):
    _, _, X_test, y_test = models.mnist5k(0)
    return X_test[:n], y_test[:n]


@pytest.mark.cpu
def test_torch_keras(claim):
    """One network, two toolchains: the trained ResNet-style CNN (`model:cnn_torch`) and the Keras model
    built layer by layer with its weights carried across (`model:cnn_keras`: NHWC, transposed kernels,
    BatchNorm statistics, explicit padding for the strided conv) give the same softmax outputs within 1e-5
    max-abs and the same predicted class for all 1,000 mnist5k test images, and they have the same number of
    parameters; so TFLite and ONNX below are compared on one model, not two.

    Course: Lesson 5, TensorFlow Lite and ONNX (one model through both toolchains).
    """
    X, _ = _test_images(1000)
    net = models.load_state(model_file("cnn_torch.pt"))
    keras_model = keras_cnn()
    p_torch = softmax(models.predict_logits(net, models.to_nchw(X)))
    p_keras = softmax(keras_model.predict(models.to_nhwc(X), batch_size=250, verbose=0))
    trainable = sum(int(np.prod(w.shape)) for w in keras_model.trainable_weights)
    claim.record(torch_params=models.count_params(net), keras_trainable_params=trainable)
    claim.expect("max_abs_softmax", np.abs(p_torch - p_keras).max(), "<=", "max_abs")
    claim.expect("argmax_agreement", np.mean(p_torch.argmax(1) == p_keras.argmax(1)), "==", 1.0)
    claim.expect("param_count_difference", abs(trainable - models.count_params(net)), "==", 0)


@pytest.mark.cpu
def test_float_equivalence(claim):
    """Float conversion preserves the function: `model:cnn_keras` converted to TFLite without optimizations
    (run by LiteRT, `ai_edge_litert`) and `model:cnn_torch` exported to ONNX (opset >= 17, dynamic batch
    axis, `onnx.checker` full check passes) and run on the ONNX Runtime CPU EP each match their source within
    1e-5 max-abs on softmax outputs for 256 mnist5k test images, at batch 1 and at batch 64, with 100%
    argmax agreement.

    Course: Lesson 5, TensorFlow Lite; ONNX (export and inference).
    """
    import onnx

    X, _ = _test_images(claim.t["n_images"])
    nchw, nhwc = models.to_nchw(X), models.to_nhwc(X)
    net = models.load_state(model_file("cnn_torch.pt"))
    ref_torch = softmax(models.predict_logits(net, nchw))
    ref_keras = softmax(keras_cnn().predict(nhwc, batch_size=64, verbose=0))
    onnx_path = model_file("cnn_fp32.onnx")
    model = onnx.load(str(onnx_path))
    onnx.checker.check_model(model, full_check=True)
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    claim.expect("onnx_opset", opset, ">=", "min_opset")
    session = onnx_tools.make_session(onnx_path)
    runner = tflite_tools.TFLiteRunner(model_file("cnn_float32.tflite").read_bytes())
    for batch in (1, 64):
        chunks = range(0, len(X), batch)
        p_onnx = softmax(np.concatenate([onnx_tools.predict(session, nchw[i:i + batch]) for i in chunks]))
        p_tflite = softmax(np.concatenate([runner(nhwc[i:i + batch]) for i in chunks]))
        claim.expect(f"onnx_max_abs_b{batch}", np.abs(p_onnx - ref_torch).max(), "<=", "max_abs")
        claim.expect(f"tflite_max_abs_b{batch}", np.abs(p_tflite - ref_keras).max(), "<=", "max_abs")
        claim.expect(f"onnx_argmax_agreement_b{batch}", np.mean(p_onnx.argmax(1) == ref_torch.argmax(1)), "==", 1.0)
        claim.expect(f"tflite_argmax_agreement_b{batch}", np.mean(p_tflite.argmax(1) == ref_keras.argmax(1)), "==", 1.0)
