"""Where Optuna studies live: an RDB URL from one setting.

`CLAIMS_OPTUNA_STORAGE` (any SQLAlchemy URL, e.g. postgresql+psycopg2://user@127.0.0.1:5432/db) when
set, else a SQLite file under data/. The same code then serves one process or many workers: every
worker opens the study by name through the same URL (impl.l4_tuning.workers), and a PostgreSQL
server for many workers comes from impl.l4_tuning.postgres.

With a heartbeat (`make_storage(url, heartbeat_interval=..., grace_period=..., max_retry=...)`) each
running trial's process stamps the storage every `heartbeat_interval` s; a trial whose stamp is older
than `grace_period` s belonged to a dead process, and the next worker to start a trial marks it FAIL
and (with `max_retry`) enqueues a copy with the same parameters (Optuna's
RetryHeartbeatStaleTrialCallback, called RetryFailedTrialCallback before Optuna 4.9).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from impl import paths
from impl.checks import as_instance, as_int, as_path, as_str

__all__ = ["storage_url", "make_storage", "trial_record"]

STORAGE_ENV = "CLAIMS_OPTUNA_STORAGE"


def check_url(url: Any, name: str = "url") -> str:
    """`url` if it is a non-empty SQLAlchemy-style URL (`dialect[+driver]://...`)."""
    url = as_str(url, name)
    if "://" not in url:
        raise ValueError(f"{name} must be a SQLAlchemy URL such as sqlite:///path or postgresql://..., got {url!r}")
    return url


def storage_url(default_file: Path | str | None = None) -> str:
    """The study storage URL: $CLAIMS_OPTUNA_STORAGE, else `sqlite:///<default_file>` (data/optuna.db)."""
    path = as_path(default_file, "default_file") if default_file is not None else paths.DATA_DIR / "optuna.db"
    configured = os.environ.get(STORAGE_ENV, "").strip()
    if configured:
        return check_url(configured, STORAGE_ENV)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"


def make_storage(url: str, *, heartbeat_interval: int | None = None, grace_period: int | None = None,
                 max_retry: int = 0):
    """An `optuna.storages.RDBStorage` for `url`; with a heartbeat, a trial whose process died is
    marked FAIL after `grace_period` s (default 2 x the interval) and re-enqueued with the same
    parameters up to `max_retry` times."""
    url = check_url(url)
    max_retry = as_int(max_retry, "max_retry", minimum=0, maximum=100)
    if heartbeat_interval is None:
        if grace_period is not None or max_retry:
            raise ValueError("grace_period and max_retry need a heartbeat_interval")
    else:
        heartbeat_interval = as_int(heartbeat_interval, "heartbeat_interval", minimum=1, maximum=3600)
        grace_period = as_int(grace_period if grace_period is not None else 2 * heartbeat_interval, "grace_period",
                              minimum=heartbeat_interval, maximum=86400)
    import optuna

    if heartbeat_interval is None:
        return optuna.storages.RDBStorage(url)
    with warnings.catch_warnings():  # the heartbeat is a deliberate choice here, experimental or not
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry) if max_retry else None
        return optuna.storages.RDBStorage(url, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
                                          heartbeat_stale_trial_callback=retry)


def trial_record(trial) -> dict[str, Any]:
    """Everything a storage keeps of one trial, as plain JSON-able values: two processes' views of a
    study are equal exactly when their records are."""
    import optuna

    trial = as_instance(trial, "trial", optuna.trial.FrozenTrial)
    when = (lambda moment: moment.isoformat() if moment is not None else None)
    to_json = optuna.distributions.distribution_to_json
    return {
        "number": trial.number, "state": trial.state.name, "params": dict(trial.params),
        "distributions": {name: to_json(d) for name, d in trial.distributions.items()},
        "values": list(trial.values) if trial.values is not None else None,
        "intermediate_values": {str(step): value for step, value in trial.intermediate_values.items()},
        "user_attrs": dict(trial.user_attrs), "system_attrs": dict(trial.system_attrs),
        "datetime_start": when(trial.datetime_start), "datetime_complete": when(trial.datetime_complete),
    }
