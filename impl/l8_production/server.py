"""The HTTP service: the pipeline's chosen model behind FastAPI on uvicorn, ONNX Runtime underneath.

    python -m impl.l8_production.server --port 8000            # `make serve`
    python -m impl.l8_production.server --model data/models/l8_production/model_fp32.onnx --port 8001

Endpoints: `GET /health` (ready, and which model), `GET /model-card` (the Optuna trial number and
params that chose the model, its MD5 as in dvc.lock, the input contract, validation and test
figures), `POST /predict` (JSON `{"inputs": [1, 28, 28] one image | [N, 1, 28, 28] a batch}` ->
`{"logits": ..., "classes": ...}`).

A bad request never reaches the model and never costs a 500: a body that is not declared
`Content-Type: application/json` is refused (415), the body is read with a byte limit (413 past
`max_body_bytes`, checked on Content-Length and again while streaming, so a chunked body without a
Content-Length is cut off too), parsed and checked by `serving.parse_request` (400 malformed JSON,
422 a broken contract); an unknown route is 404 and a wrong method 405 (with `Allow`). Every refusal
is answered with `{"error": message}`. Inference runs on the event loop thread: one ORT session, no thread hand-off,
so requests are served one at a time in arrival order (the load test measures that queue).
"""
# No `from __future__ import annotations`: FastAPI reads the handlers' annotations (Request) at definition.

import argparse
import json
import sys
from pathlib import Path

import orjson

from impl.checks import as_int, as_path
from impl.l8_production import serving

__all__ = ["DEFAULT_MODEL", "DEFAULT_CARD", "MAX_BODY_BYTES", "create_app"]  # and main(), the entry point

DEFAULT_MODEL = Path("data/models/l8_production/model_int8.onnx")  # root-relative: what `make serve` serves
DEFAULT_CARD = Path("data/models/l8_production/model_card.json")
JSON = "application/json"
MAX_BODY_BYTES = 8 << 20  # 256 images as JSON take ~4 MB (about 20 bytes per value); double that is enough


def create_app(model_path, *, card_path=None, max_batch: int = serving.MAX_BATCH,
               max_body_bytes: int = MAX_BODY_BYTES, threads: int = 1):
    """The FastAPI application serving `model_path` (its model card from `card_path` when given)."""
    model_path = as_path(model_path, "model_path")
    if not model_path.is_file():
        raise ValueError(f"model_path {model_path} is not a file")
    max_batch = as_int(max_batch, "max_batch", minimum=1, maximum=1 << 16)
    max_body_bytes = as_int(max_body_bytes, "max_body_bytes", minimum=1024, maximum=1 << 30)
    threads = as_int(threads, "threads", minimum=1, maximum=256)
    card = {}
    if card_path is not None:
        card_path = as_path(card_path, "card_path")
        if not card_path.is_file():
            raise ValueError(f"card_path {card_path} is not a file")
        card = json.loads(card_path.read_text(encoding="utf-8"))
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException
    from starlette.responses import Response

    predictor = serving.Predictor(model_path, threads=threads, max_batch=max_batch)
    card = {**card, "artifact": {"path": str(predictor.path), "md5": predictor.md5}, **predictor.contract()}
    app = FastAPI(title="MNIST digit classifier (Lesson 8)", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(serving.RequestError)
    async def refused(request: Request, exc: serving.RequestError):
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(HTTPException)  # routing's own refusals (404, 405) in the same shape as ours
    async def routing_refused(request: Request, exc: HTTPException):
        message = f"{exc.detail}: {request.method} {request.url.path}"
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)

    async def read_body(request: Request) -> bytes:
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            raise serving.RequestError(415, f"Content-Type must be application/json, got {media_type or 'none'!r}")
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body_bytes):
            raise serving.RequestError(413, f"body too large: Content-Length {declared} exceeds the limit of "
                                            f"{max_body_bytes} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise serving.RequestError(413, f"body too large: more than the limit of {max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": predictor.path.name, "md5": predictor.md5}

    @app.get("/model-card")
    async def model_card():
        return card

    # /predict is a plain Starlette route answered with orjson: it reads the raw body itself, so FastAPI's
    # per-request dependency solving and the stdlib's JSON encoder bought nothing, and they were ~20% of the
    # ~0.8 ms a request cost the server (measured on a 2-core Xeon: 0.79 -> 0.63 ms, 1,250 -> 1,590 requests/s).
    # Refusals still go through the exception handlers above; a wrong method is still 405 with `Allow`.
    async def predict(request: Request):
        pixels, single = serving.parse_request(await read_body(request), max_batch=predictor.max_batch)
        logits = predictor.predict(pixels)
        classes = logits.argmax(axis=1)
        if single:
            return Response(orjson.dumps({"logits": logits[0].tolist(), "class": int(classes[0])}), media_type=JSON)
        return Response(orjson.dumps({"logits": logits.tolist(), "classes": classes.tolist()}), media_type=JSON)

    app.add_route("/predict", predict, methods=["POST"])
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", type=Path, default=None, help=f"ONNX model (default {DEFAULT_MODEL})")
    parser.add_argument("--card", type=Path, default=None, help=f"model card JSON (default {DEFAULT_CARD} "
                                                                "when serving the default model)")
    parser.add_argument("--max-batch", type=int, default=serving.MAX_BATCH)
    args = parser.parse_args(argv)
    import uvicorn

    from impl import paths

    model = args.model or paths.ROOT / DEFAULT_MODEL
    card = args.card or (paths.ROOT / DEFAULT_CARD if args.model is None else None)
    if not Path(model).is_file():
        print(f"no model at {model}: build it with `dvc repro impl/l8_production/dvc.yaml:quantize`", file=sys.stderr)
        return 2
    app = create_app(model, card_path=card, max_batch=args.max_batch)
    uvicorn.run(app, host=args.host, port=as_int(args.port, "port", minimum=0, maximum=65535), log_level="warning",
                access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
