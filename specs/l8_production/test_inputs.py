"""Lesson 8's bad-input claim: one valid call template per exported function (data only)."""
import functools
import tempfile
from pathlib import Path

import numpy as np

from impl import onnx_tools
from impl.harness.input_claim import bad_input_claim
from impl.harness.kinds import (
    Bytes, Choice, Count, Flag, Images, Instance, Labels, Lazy, Matrix, Optional, PathArg, Real, Seed, Text,
)
from impl.harness.sweep import Case, HeavyCase
from impl.l8_production import (
    artifacts, bitwidths, client, jax_tuning, keras_pruning, model, ort_quant, pipeline_repro, server, serving,
)

IMAGES = (np.arange(4 * 28 * 28) % 256).astype(np.uint8).reshape(4, 28, 28)
LABELS = np.array([0, 1, 2, 3])
PIXELS = (IMAGES.astype(np.float32) / 255)[:, None]


@functools.cache
def _objects():
    import optuna

    net = model.make_mlp(0, (8, 4))
    weights, biases = model.layer_arrays(net)
    study = optuna.create_study()
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    fp32 = model.export_onnx(net)
    folder = Path(tempfile.mkdtemp(prefix="l8-sweep-"))
    (folder / "model.onnx").write_bytes(fp32)
    (folder / "card.json").write_text("{}")
    return {"net": net, "weights": weights, "biases": biases, "study": study, "fp32": fp32,
            "trial": study.ask(), "counter": jax_tuning.TraceCounter(), "model_path": folder / "model.onnx",
            "card_path": folder / "card.json"}


def obj(name):
    return Lazy(lambda: _objects()[name])


W, B = Instance(obj("weights")), Instance(obj("biases"))
CASES = [
    Case(model.make_mlp, Seed(), Instance((8, 4))),
    Case(model.layer_arrays, Instance(obj("net"))),
    HeavyCase(model.load_layers, PathArg("/nonexistent/mlp.pt")),
    Case(model.to_pixels, Images(IMAGES)),
    Case(model.forward, W, B, Instance(PIXELS)),
    Case(model.export_onnx, Instance(obj("net")), doc=Text("sweep")),
    HeavyCase(model.to_keras, W, B),
    Case(bitwidths.quantize_weights, W, Instance([8, 4, 2])).refuses("bits-too-long", naming=("bits",), bits=[8, 4, 2, 8]),
    Case(bitwidths.size_ratio, W, Instance([8, 4, 2])).refuses("bits-too-long", naming=("bits",), bits=[8, 4, 2, 8]),
    Case(bitwidths.config_accuracy, W, B, Instance([8, 4, 2]), Instance(PIXELS), Labels(LABELS, 10)),
    Case(bitwidths.constrained_study, W, B, Instance(PIXELS), Labels(LABELS, 10), n_trials=Count(2, 1, bitwidths.MAX_TRIALS),
         seed=Seed(), max_size_ratio=Real(0.6, 0.0, 2.0, low_open=True, cheap_high=True), n_startup_trials=Count(1, 0, bitwidths.MAX_TRIALS)),
    Case(bitwidths.pareto_study, W, B, Instance(PIXELS), Labels(LABELS, 10), n_trials=Count(2, 1, bitwidths.MAX_TRIALS),
         seed=Seed(), population_size=Count(2, 2, bitwidths.MAX_TRIALS)),
    Case(bitwidths.feasible_best, Instance(obj("study"))),
    Case(bitwidths.non_dominated, Matrix([[0.1, 2.0], [0.2, 1.0]]), Instance(["minimize", "minimize"])),
    Case(ort_quant.quantize_static, Bytes(Lazy(lambda: _objects()["fp32"])), Instance(PIXELS),
         method=Choice("MinMax", ort_quant.METHODS), per_channel=Flag(True), reduce_range=Flag(False)),
    Case(ort_quant.predict, Instance(Lazy(lambda: onnx_tools.make_session(_objects()["fp32"]))), Instance(PIXELS)),
    Case(ort_quant.with_metadata, Bytes(Lazy(lambda: _objects()["fp32"])), Instance({"k": "v"})),
    Case(ort_quant.metadata, Instance(Lazy(lambda: onnx_tools.make_session(_objects()["fp32"])))),
    Case(ort_quant.analytic_size, Instance([(512, 784), (10, 512)]), weight_bits=Count(8, 2, 32, cheap_max=True),
         per_channel=Flag(True), bias_bits=Count(32, 8, 32))
    .accepts("layer_shapes@largest", naming="layer_shapes", layer_shapes=[(10**6, 1), (1, 10**6)]),
    Case(serving.parse_request, Bytes(b'{"inputs": ' + str(PIXELS[0].tolist()).encode() + b"}"),
         max_batch=Count(4, 1, 1 << 16)),
    HeavyCase(server.create_app, PathArg(obj("model_path")), card_path=Optional(PathArg(obj("card_path"))),
         max_batch=Count(4, 1, 1 << 16), max_body_bytes=Count(4096, 1024, 1 << 30), threads=Count(1, 1, 256)),
    Case(client.percentiles, Instance([0.001, 0.002, 0.003]), Instance((50, 99))),
    HeavyCase(client.request, Count(1, 1, 65535), Choice("GET", ("GET", "POST", "PUT", "DELETE")), Text("/health"),
              Optional(Bytes(b"{}")), headers=Optional(Instance({"X-Test": "1"})), chunked=Flag(False),
              timeout_s=Real(0.5, 0.0, 3600.0, low_open=True)),
    HeavyCase(client.running_server, PathArg(obj("model_path")), card_path=Optional(PathArg(obj("card_path"))),
              max_batch=Optional(Count(4, 1, 1 << 16)), start_timeout_s=Real(60.0, 0.0, 3600.0, low_open=True),
              cpus=Optional(Instance((0,)))),
    HeavyCase(client.load_test, Count(1, 1, 65535), Instance([b"{}"]), n_requests=Count(4, 1, 10**8),
              n_clients=Count(2, 1, 256), timeout_s=Real(0.5, 0.0, 3600.0, low_open=True)),
    Case(jax_tuning.digits_split, Seed(), Count(450, 10, 1000, cheap_max=True)),
    Case(jax_tuning.make_trainer, Count(5, 1, 10**7), Instance(obj("counter")), traced_hparams=Flag(True)),
    Case(jax_tuning.accuracy, Matrix(np.zeros((65, 10))), Matrix(np.zeros((4, 64)), linked=True),
         Labels(LABELS, 10, linked=True)),
    Case(jax_tuning.tune, Count(1, 1, jax_tuning.MAX_TRIALS), Seed(), traced_hparams=Flag(True),
         num_steps=Count(5, 1, 10**7), lr_range=Instance((0.01, 10.0)), l2_range=Instance((1e-6, 0.1))),
    Case(keras_pruning.make_callback, Instance(obj("trial")), Text("val_accuracy"), Optional(Instance([]))),
    HeavyCase(keras_pruning.tune, Count(1, 1, 1000), Count(1, 1, 1000), Seed(),
              n_startup_trials=Count(4, 0, 1000), n_warmup_steps=Count(2, 0, 1000), batch_size=Count(64, 1, 10_000)),
    HeavyCase(keras_pruning.tune_in_subprocess, Count(1, 1, 1000), Count(1, 1, 1000), Seed(),
              n_startup_trials=Count(4, 0, 1000), n_warmup_steps=Count(2, 0, 1000), batch_size=Count(64, 1, 10_000),
              num_threads=Count(2, 1, 256), timeout_s=Real(60.0, 0.0, 86400.0, low_open=True)),
    HeavyCase(artifacts.path, Choice("card", tuple(artifacts.FILES))),
    HeavyCase(artifacts.load_json, Choice("card", tuple(artifacts.FILES))),
    HeavyCase(artifacts.load_arrays, Choice("test", tuple(artifacts.FILES))),
    HeavyCase(pipeline_repro.dvc, PathArg("/nonexistent/project"), Text("status"), check=Flag(True)),
    Case(pipeline_repro.stages_run, Instance(Lazy(lambda: __import__("subprocess").CompletedProcess([], 0, "", "")))),
    HeavyCase(pipeline_repro.build_project, PathArg("/nonexistent/project"), Instance({})),
]


test_rejects_bad_input = bad_input_claim("impl.l8_production", CASES, subject="Lesson 8", course="Lesson 8")
