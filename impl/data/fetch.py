"""Bring one raw dataset file into reach, verified: download cache, offline mirror, or canonical URL.

A `RemoteFile` names a file, its canonical URL(s) and the sha256 of its *content*
(the decompressed bytes for `.gz` files, since gzip headers differ between copies).
`fetch_bytes(remote)` returns those verified content bytes, looking in order at

1. `data/raw/<dataset>/<name>`  (an earlier download),
2. `$CLAIMS_DATA_MIRROR/<dataset>/<name>`  (the offline mirror, read in place),
3. each canonical URL (the download is streamed to a temp file beside its
   target, verified, then renamed into `data/raw/`; nothing partial remains).

Bytes that fail verification are never returned. When every place fails, one
`DataUnavailableError` names the file, the mirror path and every URL tried.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import zipfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from impl import paths
from impl.checks import as_bool, as_bytes, as_callable, as_instance, as_path, as_str

__all__ = [
    "DOWNLOAD_TIMEOUT_S", "ChecksumError", "DataUnavailableError", "RemoteFile", "sha256_hex", "content_of",
    "raw_path", "mirror_path", "fetch_bytes", "download",
]

DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file's content does not have the sha256 it must have."""


class DataUnavailableError(FileNotFoundError):
    """No verified copy of a dataset file could be found or downloaded."""


@dataclass(frozen=True)
class RemoteFile:
    """One dataset file. `sha256` is of its content: the decompressed bytes of a `.gz`, the
    bytes as stored otherwise, or, when the canonical URL is an archive, of `member` inside it;
    with `length`, only the first `length` content bytes are the file (and are verified)."""

    dataset: str              # folder under the mirror and under data/raw, e.g. "mnist"
    name: str                 # file name in the mirror, e.g. "train-images-idx3-ubyte.gz"
    urls: tuple[str, ...]     # canonical source first, then public copies of the same bytes
    sha256: str | None        # None only when `archive_md5` verifies the download instead
    member: str | None = None  # path inside the .tar.gz / .zip at `urls` (None: the URL is the file)
    length: int | None = None  # content = first `length` bytes (a prefix of the published file)
    archive_md5: str | None = None  # md5 of the downloaded archive as published (checked too when given)

    @property
    def gzipped(self) -> bool:
        return self.name.endswith(".gz")

    @property
    def download_name(self) -> str:
        """The name a download is kept under in data/raw/<dataset>/."""
        return self.urls[0].rsplit("/", 1)[-1] if self.member and self.urls else self.name


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(as_bytes(data, "data")).hexdigest()


def _unpack(remote: RemoteFile, stored: bytes, from_archive: bool) -> bytes:
    if from_archive and remote.member:
        if remote.download_name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(stored)) as archive:
                return archive.read(remote.member)
        with tarfile.open(fileobj=io.BytesIO(stored), mode="r:*") as archive:
            member = archive.extractfile(remote.member)
            if member is None:
                raise KeyError(remote.member)
            return member.read()
    return gzip.decompress(stored) if remote.gzipped else bytes(stored)


def content_of(remote: RemoteFile, stored: bytes, where: str, from_archive: bool = False) -> bytes:
    """The content bytes of `stored` (decompressed / extracted), checked against `remote.sha256`."""
    as_instance(remote, "remote", RemoteFile)
    if not isinstance(stored, (bytes, bytearray)):
        raise TypeError(f"stored must be bytes, got {type(stored).__name__}")
    where, from_archive = as_str(where, "where"), as_bool(from_archive, "from_archive")
    if from_archive and remote.archive_md5 and hashlib.md5(stored).hexdigest() != remote.archive_md5:
        raise ChecksumError(f"{remote.dataset}/{remote.download_name} at {where}: md5 "
                            f"{hashlib.md5(stored).hexdigest()} != published {remote.archive_md5}")
    try:
        content = _unpack(remote, stored, from_archive)
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise ChecksumError(f"{remote.dataset}/{remote.name} at {where}: damaged or truncated ({type(exc).__name__}: {exc})") from exc
    if remote.length is not None:
        content = content[: remote.length]
    digest = sha256_hex(content)
    if remote.sha256 is None and from_archive and remote.archive_md5:
        return content  # verified through the published archive md5 above
    if digest != remote.sha256:
        raise ChecksumError(
            f"{remote.dataset}/{remote.name} at {where}: content sha256 {digest} != expected {remote.sha256} "
            f"({len(content):,} bytes); the file is corrupt or not the published one"
        )
    return content


def raw_path(remote: RemoteFile, raw_dir: Path | None = None) -> Path:
    as_instance(remote, "remote", RemoteFile)
    raw_dir = paths.RAW_DIR if raw_dir is None else as_path(raw_dir, "raw_dir")
    return Path(raw_dir) / remote.dataset / remote.download_name


def mirror_path(remote: RemoteFile, mirror: Path | None) -> Path | None:
    as_instance(remote, "remote", RemoteFile)
    return None if mirror is None else as_path(mirror, "mirror") / remote.dataset / remote.name


_DEFAULT = object()


def fetch_bytes(
    remote: RemoteFile,
    *,
    mirror: Path | None | object = _DEFAULT,
    raw_dir: Path | None = None,
    opener: Callable = urllib.request.urlopen,
    progress: bool = False,
) -> bytes:
    """Verified content bytes of `remote` (see the module docstring for where it looks)."""
    as_instance(remote, "remote", RemoteFile)
    mirror = paths.data_mirror() if mirror is _DEFAULT else mirror
    mirror = None if mirror is None else as_path(mirror, "mirror")
    raw_dir = None if raw_dir is None else as_path(raw_dir, "raw_dir")
    opener, progress = as_callable(opener, "opener"), as_bool(progress, "progress")
    cached = raw_path(remote, raw_dir)
    if cached.is_file():  # a corrupt earlier download is an error, never silently replaced
        return content_of(remote, cached.read_bytes(), str(cached), from_archive=True)
    in_mirror = mirror_path(remote, mirror)
    if in_mirror is not None and in_mirror.is_file():
        return content_of(remote, in_mirror.read_bytes(), str(in_mirror))
    failures = []
    for url in remote.urls:
        try:
            return download(remote, url, cached, opener=opener, progress=progress)
        except ChecksumError:
            raise
        except Exception as exc:  # network errors of every kind: try the next URL, report all
            failures.append(f"{url} ({type(exc).__name__}: {exc})")
    where = f"{in_mirror} (not found)" if in_mirror else f"no mirror (${paths.MIRROR_ENV} is unset)"
    raise DataUnavailableError(
        f"{remote.dataset}/{remote.name} is unavailable. Looked in the mirror: {where}; "
        f"in the download cache: {cached} (not found); tried to download: {'; '.join(failures) or 'no URL'}. "
        f"Set {paths.MIRROR_ENV} to a folder holding {remote.dataset}/{remote.name}, or allow network access."
    )


def download(remote: RemoteFile, url: str, target: Path, *, opener: Callable = urllib.request.urlopen,
             progress: bool = False) -> bytes:
    """Stream `url` to a temp file beside `target`, verify its content, then rename it into place."""
    as_instance(remote, "remote", RemoteFile)
    url, target = as_str(url, "url"), as_path(target, "target")
    opener, progress = as_callable(opener, "opener"), as_bool(progress, "progress")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, opener(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            bar = _progress_bar(response, remote.name) if progress else None
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
        content = content_of(remote, Path(tmp).read_bytes(), url, from_archive=True)
        os.replace(tmp, target)
        return content
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _progress_bar(response, name: str):
    from tqdm import tqdm

    total = response.headers.get("Content-Length") if hasattr(response, "headers") else None
    return tqdm(total=int(total) if total else None, unit="B", unit_scale=True, desc=name)
