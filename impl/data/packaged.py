"""Data files shipped inside installed wheels (scikit-learn, statsmodels, ...), verified before use.

The package is located with `importlib.util.find_spec`, which does not import it, so a
package whose import is broken or slow still serves its data files.
"""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

from impl.checks import as_bool, as_str
from impl.data.fetch import ChecksumError, sha256_hex

__all__ = ["package_dir", "verified_bytes"]


def package_dir(package: str) -> Path | None:
    """The installed folder of a top-level package, or None when it is not installed."""
    package = as_str(package, "package")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def verified_bytes(package: str, relpath: str, sha256: str, *, gunzip: bool = False) -> bytes:
    """The file `relpath` inside `package` (decompressed when `gunzip`), checked against `sha256`.

    A missing package or file is a FileNotFoundError naming the path; a changed file is a
    ChecksumError -- never a silent substitute.
    """
    relpath, sha256, gunzip = as_str(relpath, "relpath"), as_str(sha256, "sha256"), as_bool(gunzip, "gunzip")
    folder = package_dir(package)
    if folder is None:
        raise FileNotFoundError(f"{package}/{relpath}: the package {package!r} is not installed")
    path = folder / relpath
    if not path.is_file():
        raise FileNotFoundError(f"{package}/{relpath}: {path} not found")
    data = path.read_bytes()
    if gunzip:
        data = gzip.decompress(data)
    digest = sha256_hex(data)
    if digest != sha256:
        raise ChecksumError(f"{package}/{relpath}: {path} has sha256 {digest}, expected {sha256}")
    return data
