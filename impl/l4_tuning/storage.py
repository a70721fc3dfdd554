"""Where Optuna studies live: an RDB URL from one setting.

`CLAIMS_OPTUNA_STORAGE` (any SQLAlchemy URL, e.g. postgresql://user@127.0.0.1:5432/db) when set,
else a SQLite file under data/. The same code then serves one process or many workers: every
worker opens the study by name through the same URL.
"""
from __future__ import annotations

import os
from pathlib import Path

from impl import paths
from impl.checks import as_int, as_path, as_str

__all__ = ["storage_url", "make_storage"]

STORAGE_ENV = "CLAIMS_OPTUNA_STORAGE"


def storage_url(default_file: Path | str | None = None) -> str:
    """The study storage URL: $CLAIMS_OPTUNA_STORAGE, else `sqlite:///<default_file>` (data/optuna.db)."""
    configured = os.environ.get(STORAGE_ENV, "").strip()
    if configured:
        return configured
    path = as_path(default_file, "default_file") if default_file is not None else paths.DATA_DIR / "optuna.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"


def make_storage(url: str, *, heartbeat_interval: int | None = None, grace_period: int | None = None,
                 max_retry: int = 0):
    """An `optuna.storages.RDBStorage` for `url`; with a heartbeat, a trial whose process died is
    marked FAIL after `grace_period` s and re-enqueued up to `max_retry` times (RetryFailedTrialCallback)."""
    import optuna

    url = as_str(url, "url")
    if "://" not in url:
        raise ValueError(f"url must be a SQLAlchemy URL such as sqlite:///path or postgresql://..., got {url!r}")
    max_retry = as_int(max_retry, "max_retry", minimum=0, maximum=100)
    if heartbeat_interval is None:
        if grace_period is not None or max_retry:
            raise ValueError("grace_period and max_retry need a heartbeat_interval")
        return optuna.storages.RDBStorage(url)
    heartbeat_interval = as_int(heartbeat_interval, "heartbeat_interval", minimum=1, maximum=3600)
    grace_period = as_int(grace_period if grace_period is not None else 2 * heartbeat_interval, "grace_period",
                          minimum=heartbeat_interval, maximum=86400)
    return optuna.storages.RDBStorage(
        url, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
        failed_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=max_retry) if max_retry else None,
    )
