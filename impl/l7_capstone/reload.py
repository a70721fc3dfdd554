"""`python -m impl.l7_capstone.reload KIND RELPATH INPUTS.npy OUTPUTS.npy`: load one saved model in
this fresh process, predict for the inputs, save the outputs. Every file is hash-checked against
dvc.lock first; torch loads are weights_only; only our own verified joblib/pickle files are unpickled.
"""
from __future__ import annotations

import json
import sys

import numpy as np

from impl import onnx_tools
from impl.digests import file_md5

__all__ = []  # a command-line entry point, not library API


def main(argv: list[str]) -> int:
    kind, relpath, inputs, outputs = argv
    from impl.l7_capstone import deploy

    path = deploy.verify_against_lock(relpath)
    X = np.load(inputs, allow_pickle=False)
    if kind in ("torch_mlp", "torch_lowrank"):
        import torch

        from impl.l7_capstone import compress, mnist5k
        from impl.pipeline import params

        torch.set_num_threads(1)
        model = mnist5k.make_mlp(0, params.knobs("l7_capstone", "mnist")["hidden"])
        if kind == "torch_lowrank":
            model = compress.replace_low_rank(model, 0, params.knobs("l7_capstone", "compress")["rank"])
        model.load_state_dict(torch.load(path, weights_only=True))
        with torch.no_grad():
            Y = model.eval()(torch.from_numpy(X)).numpy()
    elif kind == "onnx":
        Y = onnx_tools.make_session(path).run(None, {deploy.INPUT_NAME: X})[0]
    elif kind == "joblib":
        Y = deploy.load_joblib_verified(relpath).predict_proba(X)
    else:
        import pickle

        with open(path, "rb") as handle:  # verified above: our own stage's bytes
            Y = pickle.load(handle).predict_proba(X)
    np.save(outputs, np.asarray(Y), allow_pickle=False)
    print(json.dumps({"kind": kind, "relpath": relpath, "md5": file_md5(path)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
