"""The chosen model as a service: a separate server process on 127.0.0.1 (a free port), plain HTTP."""
import json
import os

import numpy as np
import pytest

from impl import timing
from impl.l8_production import artifacts, client, model, server, serving


def _images(n: int) -> np.ndarray:
    return model.to_pixels(artifacts.load_arrays("test")["X_test"][:n])


def _body(pixels) -> bytes:
    return json.dumps({"inputs": pixels.tolist()}).encode()


def _with_value(image: np.ndarray, token: bytes) -> bytes:
    """The JSON body of `image` with its first pixel's value replaced by a raw JSON token."""
    return _body(image).replace(b"[[[0.0,", b"[[[" + token + b",", 1)


@pytest.mark.cpu
def test_bad_requests(claim):
    """The service, asked over real HTTP on loopback, refuses bad requests with the right 4xx and a
    JSON `error` message naming the problem, never a 500, and keeps serving. 400: malformed JSON, a
    body nested 100,000 levels deep. 404: an unknown route. 405: a wrong method (GET /predict). 413:
    a body over 8 MiB, declared by Content-Length or sent chunked with no Content-Length. 415: a
    Content-Type other than application/json. 422: a body that is not a JSON object, a missing or
    unknown field, `inputs` not a list, `inputs` nested 500 levels deep (around a JSON boolean or a
    number: parsed, but too deep to walk or to be an image), a wrong shape, an empty batch, a batch of
    300 images (> 256), a ragged array, strings, a `dtype` other than float32, JSON booleans or nulls
    (a whole image of them, or one among numbers), NaN, Infinity, 1e400 (a float64 overflow), pixels
    outside [0, 1]. After all of them a correct request is answered 200 with the same logits as before.

    Course: Lesson 8, deploying optimized models (real-world constraints).
    """
    one = _images(1)[0]
    assert _body(one).startswith(b'{"inputs": [[[0.0,'), "the first pixel of the first test image is 0"
    nan = one.copy()
    nan[0, 0, 0] = np.nan
    limit = server.MAX_BODY_BYTES
    post = dict(method="POST", path="/predict", headers=None, chunked=False)
    cases = {  # name: (request, expected status, what the message must name)
        "malformed_json": ({**post, "body": b'{"inputs": [1, 2'}, 400, "malformed JSON"),
        "deep_nesting": ({**post, "body": b"[" * 100_000}, 400, "nested"),
        "deep_inputs_with_boolean": ({**post, "body": b'{"inputs": ' + b"[" * 500 + b"true" + b"]" * 500 + b"}"},
                                     422, "nested too deeply"),
        "deep_inputs": ({**post, "body": b'{"inputs": ' + b"[" * 500 + b"0.5" + b"]" * 500 + b"}"}, 422, "inputs"),
        "unknown_route": ({**post, "path": "/predictions", "body": _body(one)}, 404, "Not Found"),
        "wrong_method": ({**post, "method": "GET", "body": None}, 405, "Method Not Allowed"),
        "oversized_body": ({**post, "body": b" " * (9 << 20)}, 413, "too large"),
        "oversized_chunked_body": ({**post, "body": b" " * (limit + 1), "chunked": True}, 413, "too large"),
        "wrong_content_type": ({**post, "body": _body(one), "headers": {"Content-Type": "text/plain"}}, 415,
                               "Content-Type"),
        "not_an_object": ({**post, "body": json.dumps([one.tolist()]).encode()}, 422, "JSON object"),
        "missing_field": ({**post, "body": b'{"input": []}'}, 422, "inputs"),
        "unknown_field": ({**post, "body": json.dumps({"inputs": one.tolist(), "debug": 1}).encode()}, 422, "debug"),
        "inputs_not_a_list": ({**post, "body": b'{"inputs": 0.5}'}, 422, "nested list"),
        "wrong_shape": ({**post, "body": _body(one[0])}, 422, "shape"),
        "empty_batch": ({**post, "body": b'{"inputs": []}'}, 422, "shape"),
        "huge_batch": ({**post, "body": _body(np.zeros((300, 1, 28, 28), np.float32))}, 422, "300"),
        "ragged": ({**post, "body": json.dumps({"inputs": [[[0.5] * 28] * 27 + [[0.5] * 5]]}).encode()}, 422,
                   "rectangular"),
        "strings": ({**post, "body": json.dumps({"inputs": [[["0.5"] * 28] * 28]}).encode()}, 422, "numbers"),
        "wrong_dtype_field": ({**post, "body": json.dumps({"inputs": one.tolist(), "dtype": "float64"}).encode()},
                              422, "dtype"),
        "booleans": ({**post, "body": json.dumps({"inputs": [[[True] * 28] * 28]}).encode()}, 422, "boolean"),
        "boolean_among_numbers": ({**post, "body": _with_value(one, b"true")}, 422, "boolean"),
        "nulls": ({**post, "body": json.dumps({"inputs": [[[None] * 28] * 28]}).encode()}, 422, "numbers"),
        "null_among_numbers": ({**post, "body": _with_value(one, b"null")}, 422, "numbers"),
        "nan": ({**post, "body": json.dumps({"inputs": nan.tolist()}).encode()}, 422, "NaN"),
        "infinity": ({**post, "body": _with_value(one, b"Infinity")}, 422, "Infinity"),
        "overflow_1e400": ({**post, "body": _with_value(one, b"1e400")}, 422, "infinite"),
        "out_of_range": ({**post, "body": _body(one * 255)}, 422, "[0, 1]"),
    }
    answers = {}
    with client.running_server(artifacts.path("int8")) as port:
        status, before = client.request(port, "POST", "/predict", _body(one))
        assert status == 200, before
        for name, (ask, _, _) in cases.items():
            answers[name] = client.request(port, ask["method"], ask["path"], ask["body"], headers=ask["headers"],
                                           chunked=ask["chunked"])
        status_after, after = client.request(port, "POST", "/predict", _body(one))
    claim.record(answers={name: [status, payload] for name, (status, payload) in answers.items()})
    for name, (_, expected_status, needle) in cases.items():
        status, payload = answers[name]
        claim.expect(f"{name}_status", status, "==", expected_status)
        message = payload.get("error", "") if isinstance(payload, dict) else str(payload)
        claim.expect(f"{name}_names_problem", needle in message, "==", True)
    claim.expect("status_after", status_after, "==", 200)
    claim.expect("same_answer_after", after == before, "==", True)


@pytest.mark.cpu
def test_bitwise(claim):
    """Predictions over HTTP equal in-process predictions bit for bit: for 64 test images sent one at a
    time and as one batch of 64, the logits the service returns in JSON, read back as float32, equal
    `Predictor.predict` on the same float32 pixels (ORT, same model file) in every bit, and the predicted
    classes match; the service's model card names the search's chosen trial and params and the model's
    MD5 as recorded in dvc.lock.

    Course: Lesson 8, deploying optimized models.
    """
    from impl.pipeline import provenance

    pixels = _images(claim.t["n_images"])
    path = artifacts.path("int8")
    local = serving.Predictor(path).predict(pixels)
    with client.running_server(path, card_path=artifacts.path("card")) as port:
        singles = [client.request(port, "POST", "/predict", _body(x)) for x in pixels]
        status, batch = client.request(port, "POST", "/predict", _body(pixels))
        card_status, card = client.request(port, "GET", "/model-card")
    single_logits = np.array([payload["logits"] for _, payload in singles], dtype=np.float32)
    batch_logits = np.array(batch["logits"], dtype=np.float32)
    chosen = artifacts.load_json("search")["calibration"]["chosen"]
    lock_md5 = provenance.dvc_lock_hashes().get("data/models/l8_production/model_int8.onnx")
    claim.record(card=card, lock_md5=lock_md5)
    claim.expect("statuses", sorted({s for s, _ in singles} | {status, card_status}), "==", [200])
    claim.expect("singles_bitwise", bool(np.array_equal(single_logits.view(np.uint32), local.view(np.uint32))),
                 "==", True)
    claim.expect("batch_bitwise", bool(np.array_equal(batch_logits.view(np.uint32), local.view(np.uint32))), "==", True)
    claim.expect("classes", batch["classes"] == local.argmax(1).tolist(), "==", True)
    claim.expect("card_trial", (card["trial_number"], card["params"]) == (chosen["number"], chosen["params"]),
                 "==", True)
    claim.expect("card_md5_is_lock_md5", card["artifact"]["md5"] == lock_md5, "==", True)


@pytest.mark.cpu
@pytest.mark.perf
@pytest.mark.slow
def test_load(claim):
    """A bounded load test on loopback serves every request: 4 concurrent clients (one keep-alive
    connection each, the server pinned to one core and the clients to the other) send single-image
    requests in rounds of 2,000, alternating between an int8 server and an fp32 server (6 rounds each);
    no request fails, and the int8 service's p99 latency over HTTP (pooled over its rounds) is within the
    SLO of params in claims.yaml (5 ms, the issue's aim); p50, throughput and the int8/fp32 ratios are
    reported. As the protocol judges a ratio, the SLO is judged only when the 95% interval of the median
    of the six round p99s lies wholly on one side of it (the interval carries the rounds' spread, which is
    recorded); an interval that straddles it, or other processes busy on the host, makes the verdict
    "not run" (inconclusive).

    Course: Lesson 8, deploying optimized models (serving).
    """
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pin = len(cpus) >= 2
    bodies = [_body(x) for x in _images(50)]
    runs = {"int8": [], "fp32": []}
    saved = set(cpus)
    with timing.HostLoad() as load, client.running_server(artifacts.path("int8"), cpus=(cpus[0],) if pin else None) as port8, \
            client.running_server(artifacts.path("fp32"), cpus=(cpus[0],) if pin else None) as port32:
        ports = {"int8": port8, "fp32": port32}
        try:
            if pin:
                os.sched_setaffinity(0, {cpus[1]})
            for name, port in ports.items():  # warm-up
                client.load_test(port, bodies, n_requests=claim.t["n_warmup"], n_clients=claim.t["n_clients"])
            for round_ in range(claim.t["n_rounds"]):
                for name in (("int8", "fp32") if round_ % 2 == 0 else ("fp32", "int8")):
                    runs[name].append(client.load_test(ports[name], bodies, n_requests=claim.t["requests_per_round"],
                                                       n_clients=claim.t["n_clients"]))
        finally:
            if pin:
                os.sched_setaffinity(0, saved)
    figures = {}
    for name, rounds in runs.items():
        latencies = [t for r in rounds for t in r["latencies_s"]]
        figures[name] = {**client.percentiles(latencies),
                         "throughput_rps": sum(r["n_requests"] for r in rounds) / sum(r["wall_s"] for r in rounds),
                         "failures": sum(len(r["failures"]) for r in rounds),
                         "round_p99_ms": [client.percentiles(r["latencies_s"])["p99_ms"] for r in rounds]}
    ratio = {key: figures["int8"][key] / figures["fp32"][key] for key in ("p50_ms", "p99_ms", "throughput_rps")}
    claim.record(figures=figures, int8_over_fp32=ratio, pinned=pin, cpus=cpus)
    claim.plot("HTTP latency per round (4 clients)", list(range(1, claim.t["n_rounds"] + 1)),
               {"int8 p99 (ms)": figures["int8"]["round_p99_ms"], "fp32 p99 (ms)": figures["fp32"]["round_p99_ms"]},
               xlabel="round", ylabel="ms", hline=claim.t["max_p99_ms"])
    claim.expect("failures", figures["int8"]["failures"] + figures["fp32"]["failures"], "==", 0)
    claim.record(round_p99_cv=max(timing.robust_cv(figures[n]["round_p99_ms"]) for n in figures))
    # Seen on a 2-core AVX2 EPYC with the stdlib JSON parser: rounds 4.8-6.3 ms, then 4.98 ms pooled (straddling).
    timing.judge_interval(claim, "int8_p99_ms", figures["int8"]["p99_ms"],
                          timing.median_interval(figures["int8"]["round_p99_ms"]), "<=", "max_p99_ms",
                          foreign_cores=load.foreign_cores,
                          over=f"(the median of the {claim.t['n_rounds']} round p99s)")
