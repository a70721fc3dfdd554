"""Process-wide state a function may change, and the context managers that put it back.

A claim's verdict must not depend on what ran before it, so library code and specs that touch
process-wide settings (thread pools, deterministic modes, global random generators, log levels,
environment variables, the working directory) do it inside one of these, which restore what they
found. A stage entry point running in its own process may set process-wide state directly; a
function a spec calls in-process may not.

This module imports no test runner and no heavy framework at import time: torch and TensorFlow are
touched only when already imported or when the caller asks for them.
"""
from __future__ import annotations

import contextlib
import logging
import os
import random
import sys
from typing import Iterator

import numpy as np

__all__ = ["torch_state", "global_rngs_preserved", "logger_levels_preserved", "env_preserved",
           "optuna_quiet"]


def _positive_int_or_none(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value!r}")
    return int(value)


@contextlib.contextmanager
def torch_state(*, num_threads: int | None = None, deterministic: bool | None = None,
                seed: int | None = None) -> Iterator[None]:
    """Set torch's intra-op threads, deterministic-algorithms flag and (forked) RNG; restore all on exit.

    torch's generator is always forked, so draws inside (dropout masks, initial weights) never
    advance the caller's generator; `seed` seeds the forked one.
    """
    num_threads = _positive_int_or_none(num_threads, "num_threads")
    if deterministic is not None and not isinstance(deterministic, (bool, np.bool_)):
        raise TypeError(f"deterministic must be a bool or None, got {type(deterministic).__name__}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    import torch

    threads_before = torch.get_num_threads()
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    warn_only_before = torch.is_deterministic_algorithms_warn_only_enabled()
    with torch.random.fork_rng(devices=[]):
        try:
            if num_threads is not None:
                torch.set_num_threads(num_threads)
            if deterministic is not None:
                torch.use_deterministic_algorithms(bool(deterministic))
            if seed is not None:
                torch.manual_seed(int(seed))
            yield
        finally:
            torch.set_num_threads(threads_before)
            torch.use_deterministic_algorithms(deterministic_before, warn_only=warn_only_before)


def _tf_global_seed() -> object:
    """TensorFlow's global seed (eager context), or None when TF has not been imported."""
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.eager import context

    return context.global_seed()


@contextlib.contextmanager
def global_rngs_preserved() -> Iterator[None]:
    """Save Python's `random`, NumPy's global generator, torch's generator and TF's global seed; restore them.

    For code that seeds globally (`keras.utils.set_random_seed`, `tf.random.set_seed`,
    `np.random.seed`): the caller's generators come back exactly as they were.
    """
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    torch_rng = sys.modules["torch"].random.get_rng_state() if "torch" in sys.modules else None
    tf_seed = _tf_global_seed()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        if torch_rng is not None:
            sys.modules["torch"].random.set_rng_state(torch_rng)
        elif "torch" in sys.modules:  # imported inside: nothing of the caller's to restore
            pass
        if "tensorflow" in sys.modules and _tf_global_seed() != tf_seed:
            from tensorflow.python.eager import context

            context.set_global_seed(tf_seed)


@contextlib.contextmanager
def logger_levels_preserved(*names: str) -> Iterator[None]:
    """Restore the levels of the named `logging` loggers (and optuna's verbosity, if imported) on exit."""
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"logger names must be non-empty strings, got {name!r}")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    optuna_level = sys.modules["optuna"].logging.get_verbosity() if "optuna" in sys.modules else None
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
        if optuna_level is not None:
            sys.modules["optuna"].logging.set_verbosity(optuna_level)


@contextlib.contextmanager
def optuna_quiet() -> Iterator[None]:
    """Optuna at WARNING inside (one INFO line per trial buries a test's output); its verbosity restored after."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


@contextlib.contextmanager
def env_preserved() -> Iterator[None]:
    """Restore `os.environ` and the working directory on exit."""
    environ = dict(os.environ)
    cwd = os.getcwd()
    try:
        yield
    finally:
        os.chdir(cwd)
        for name in set(os.environ) - set(environ):
            del os.environ[name]
        for name, value in environ.items():
            if os.environ.get(name) != value:
                os.environ[name] = value
