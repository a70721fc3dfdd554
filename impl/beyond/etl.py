"""The notes' ETL example (extract a sales table, clean it, load it into SQL), with the standard
library's sqlite3 as the database and, beside it, SQLAlchemy's engine (which the notes use; it is
installed here as Optuna's storage layer), to show both load paths give the same table back.

Cleaning: drop every row with a missing value, then total_price = quantity * unit_price.
"""
from __future__ import annotations

import sqlite3

import numpy as np

from impl.checks import MAX_SAMPLES, as_int, as_rng, as_str

__all__ = ["raw_sales", "clean", "round_trip"]


def raw_sales(num_rows: int, rng: np.random.Generator):
    """A synthetic sales extract: order_id, product, quantity (int), unit_price (2 decimals), with
    about 10% of quantity and of unit_price missing."""
    import pandas as pd

    n = as_int(num_rows, "num_rows", minimum=1, maximum=MAX_SAMPLES // 10)
    rng = as_rng(rng, "rng")
    quantity = pd.array(rng.integers(1, 20, n), dtype="Int64")
    quantity[rng.random(n) < 0.1] = pd.NA
    unit_price = np.round(rng.uniform(0.5, 100.0, n), 2)
    unit_price[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"order_id": np.arange(1, n + 1), "product": rng.choice(["apple", "pear", "plum"], n),
                         "quantity": quantity, "unit_price": unit_price})


def clean(frame):
    """Drop rows with any missing value; add total_price = quantity * unit_price; plain dtypes."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    missing = {"order_id", "product", "quantity", "unit_price"} - set(frame.columns)
    if missing:
        raise ValueError(f"frame lacks columns {sorted(missing)}")
    out = frame.dropna().astype({"quantity": "int64", "unit_price": "float64"}).reset_index(drop=True)
    out["total_price"] = out["quantity"] * out["unit_price"]
    return out


def round_trip(frame, via: str):
    """Write `frame` to an in-memory SQLite table with DataFrame.to_sql and read it back, through a
    stdlib sqlite3 connection (`via="sqlite3"`) or a SQLAlchemy engine (`via="sqlalchemy"`)."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    via = as_str(via, "via", choices=("sqlite3", "sqlalchemy"))
    if via == "sqlite3":
        with sqlite3.connect(":memory:") as connection:
            frame.to_sql("sales", connection, index=False)
            return pd.read_sql("SELECT * FROM sales", connection)
    import sqlalchemy

    engine = sqlalchemy.create_engine("sqlite://")
    try:
        frame.to_sql("sales", engine, index=False)
        return pd.read_sql("SELECT * FROM sales", engine)
    finally:
        engine.dispose()
