"""Talking to the service as a client does: a server in its own process on a free loopback port,
plain HTTP requests (stdlib `http.client`), and a bounded load test.

`running_server` starts `python -m impl.l8_production.server` on 127.0.0.1 with a port the OS
just handed out, waits for `/health`, yields the port and stops the process and anything it started
(SIGTERM, then SIGKILL; `impl.processes.stop_tree`) whatever happens. `load_test` sends a fixed number
of requests from a few concurrent clients (one keep-alive connection each), so it ends by itself, and
returns every latency and every failure.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from impl import timing
from impl.checks import MAX_SAMPLES, as_bool, as_bytes, as_float, as_int, as_path, as_str
from impl.ports import free_port

__all__ = ["HOST", "running_server", "request", "load_test", "percentiles"]

HOST = "127.0.0.1"


CHUNK_BYTES = 64 << 10


def request(port: int, method: str, path: str, body: bytes | None = None, *, headers: dict | None = None,
            chunked: bool = False, timeout_s: float = 30.0) -> tuple[int, Any]:
    """(status, decoded JSON body, or the raw text when it is not JSON) of one request on a new connection.
    With `chunked`, the body goes out in 64 KiB chunks (Transfer-Encoding: chunked) with no Content-Length."""
    port = as_int(port, "port", minimum=1, maximum=65535)
    method = as_str(method, "method", choices=("GET", "POST", "PUT", "DELETE"))
    path = as_str(path, "path")
    if body is not None:
        body = as_bytes(body, "body", nonempty=True)
    if headers is not None and (not isinstance(headers, dict) or
                                not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
        raise TypeError(f"headers must be a dict of str to str or None, got {headers!r}")
    if as_bool(chunked, "chunked") and body is None:
        raise ValueError("chunked needs a body to send")
    timeout_s = as_float(timeout_s, "timeout_s", low=0.0, high=3600.0, low_open=True)
    if chunked:  # an iterable body without a Content-Length: http.client encodes it chunked
        whole = body
        body = (whole[i:i + CHUNK_BYTES] for i in range(0, len(whole), CHUNK_BYTES))
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})},
                           encode_chunked=chunked)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw.decode("utf-8", "replace")


def running_server(model_path, *, card_path=None, max_batch: int | None = None, start_timeout_s: float = 60.0,
                   cpus: tuple[int, ...] | None = None):
    """A context manager: a server process for `model_path` on a free port, yielding the port; `cpus` pins
    it (Linux). Arguments are checked here, before anything starts."""
    model_path = as_path(model_path, "model_path")
    if not model_path.is_file():
        raise ValueError(f"model_path {model_path} is not a file")
    start_timeout_s = as_float(start_timeout_s, "start_timeout_s", low=0.0, high=3600.0, low_open=True)
    if card_path is not None:
        card_path = as_path(card_path, "card_path")
    if max_batch is not None:
        max_batch = as_int(max_batch, "max_batch", minimum=1, maximum=1 << 16)
    if cpus is not None and (not isinstance(cpus, (tuple, list)) or not cpus or
                             not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in cpus)):
        raise TypeError(f"cpus must be a non-empty tuple of CPU numbers or None, got {cpus!r}")
    return _serve(model_path, card_path, max_batch, start_timeout_s, cpus)


@contextlib.contextmanager
def _serve(model_path, card_path, max_batch, start_timeout_s, cpus):
    from impl import paths

    port = free_port()
    command = [sys.executable, "-m", "impl.l8_production.server", "--port", str(port), "--model", str(model_path)]
    if card_path is not None:
        command += ["--card", str(card_path)]
    if max_batch is not None:
        command += ["--max-batch", str(max_batch)]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(command, cwd=paths.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if cpus is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(process.pid, set(cpus))
        deadline = time.monotonic() + start_timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode} before it was ready:\n"
                                   f"{process.stdout.read().decode(errors='replace')[-3000:]}")
            try:
                if request(port, "GET", "/health", timeout_s=2.0)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /health within {start_timeout_s} s")
            time.sleep(0.1)
        yield port
    finally:
        from impl.processes import stop_tree

        stop_tree(process, grace_s=10.0)  # SIGTERM, SIGKILL after 10 s, to the server and anything it started
        process.stdout.close()


def load_test(port: int, bodies, *, n_requests: int, n_clients: int, timeout_s: float = 30.0) -> dict[str, Any]:
    """`n_requests` POST /predict requests split evenly over `n_clients` threads, each with its own keep-alive
    connection, cycling through `bodies` (JSON bytes). Returns latencies (s, in completion order per client),
    failures (status or exception, with the request index) and the wall time of the whole run."""
    port = as_int(port, "port", minimum=1, maximum=65535)
    if not isinstance(bodies, (list, tuple)) or not bodies:
        raise TypeError("bodies must be a non-empty list of JSON request bodies (bytes)")
    bodies = [as_bytes(b, "bodies", nonempty=True) for b in bodies]
    n_clients = as_int(n_clients, "n_clients", minimum=1, maximum=256)
    n_requests = as_int(n_requests, "n_requests", minimum=n_clients, maximum=MAX_SAMPLES)
    timeout_s = as_float(timeout_s, "timeout_s", low=0.0, high=3600.0, low_open=True)
    latencies: list[list[float]] = [[] for _ in range(n_clients)]
    failures: list[tuple[int, str]] = []
    barrier = threading.Barrier(n_clients + 1)

    def client(k: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
        headers = {"Content-Type": "application/json"}
        barrier.wait()
        for i in range(k, n_requests, n_clients):
            body = bodies[i % len(bodies)]
            start = time.perf_counter()
            try:
                connection.request("POST", "/predict", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures.append((i, f"HTTP {response.status}"))
            except (OSError, http.client.HTTPException) as exc:
                failures.append((i, f"{type(exc).__name__}: {exc}"))
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
                continue
            latencies[k].append(time.perf_counter() - start)
        connection.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(n_clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    flat = [t for per_client in latencies for t in per_client]
    return {"latencies_s": flat, "failures": failures, "wall_s": wall, "n_requests": n_requests,
            "n_clients": n_clients}


def percentiles(seconds, qs=(50, 99)) -> dict[str, float]:
    """{"p50_ms": ..., "p99_ms": ...}: `impl.timing.percentiles` of latencies given in seconds, in milliseconds."""
    return {f"{name}_ms": value * 1e3 for name, value in timing.percentiles(seconds, qs).items()}
