"""A free TCP port on the loopback interface, for the real servers the specs start (PostgreSQL,
Spark, uvicorn, torch.distributed's rendezvous)."""
from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port on 127.0.0.1 that the OS reports free now (bind to port 0, read it, close). Another process
    may take it before the caller binds it; the servers started here retry or fail with that port named."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]
