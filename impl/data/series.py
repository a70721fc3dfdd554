"""Real time series shipped inside the statsmodels wheel, verified by sha256 before use.

API:  `sunspots_yearly()`, `sunspots_monthly()`, `co2_weekly()` -> Series(t float64 decimal years,
      values float64; NaN marks a missing CO2 week). Source: `statsmodels.datasets` data files
      (yearly/monthly sunspots: SIDC; CO2: Mauna Loa weekly flask data, 1958-2001).
"""
from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np

from impl.data import packaged

__all__ = ["LICENCE", "SHA256", "Series", "sunspots_yearly", "sunspots_monthly", "co2_weekly"]

LICENCE = "statsmodels datasets: public-domain observations (SIDC sunspots, NOAA/Scripps Mauna Loa CO2)"
SHA256 = {
    "sunspots/sunspots.csv": "f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b",
    "sunspots/src/sunspots_monthly.dat": "cc303d26340b6d599bc2878899f8c50c12323dc04b52a26ad047965ea2b9d2a3",
    "co2/co2.csv": "16695fa2786e53414e5a6b54767a3fdf5de99cfbc68617f69d1362d92776a92f",
}


class Series(NamedTuple):
    t: np.ndarray       # time in decimal years
    values: np.ndarray  # float64


def _bytes(relpath: str) -> bytes:
    return packaged.verified_bytes("statsmodels", f"datasets/{relpath}", SHA256[relpath])


def sunspots_yearly() -> Series:
    table = np.loadtxt(io.BytesIO(_bytes("sunspots/sunspots.csv")), delimiter=",", skiprows=1)
    return Series(table[:, 0], table[:, 1])


def sunspots_monthly() -> Series:
    t, values = [], []
    for line in _bytes("sunspots/src/sunspots_monthly.dat").decode("ascii").splitlines():
        fields = line.split()
        if fields and fields[0].isdigit() and len(fields[0]) == 4:
            for month, value in enumerate(fields[1:13]):
                t.append(int(fields[0]) + month / 12)
                values.append(float(value))
    return Series(np.array(t), np.array(values))


def co2_weekly() -> Series:
    t, values = [], []
    for line in _bytes("co2/co2.csv").decode("ascii").splitlines()[1:]:
        date, _, value = line.partition(",")
        day = np.datetime64(f"{date[:4]}-{date[4:6]}-{date[6:8]}")
        year = day.astype("datetime64[Y]")
        t.append(int(date[:4]) + (day - year).astype(int) / 365.25)
        values.append(float(value) if value.strip() else np.nan)
    return Series(np.array(t), np.array(values))
