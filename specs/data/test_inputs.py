"""The data loaders' bad-input claim: one valid call template per exported function (data only).

The sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the
bad values from each argument's kind; nothing here is chosen per bad value. Loaders that read
DVC artifacts are HeavyCases: only their bad calls are made, and those must fail before any file
is touched. The cheap templates read and write only a scratch folder.
"""
import atexit
import functools
import hashlib
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from impl.data import (
    cifar10, diabetes, digits, fetch, gutenberg, idx, mnist, mnist5k, movielens, packaged, prepared, series, splits,
    toy,
)
from impl.harness.input_claim import bad_input_claim
from impl.harness.kinds import (
    ArrayDict, Bytes, Choice, Count, Counts, Flag, Instance, Labels, Lazy, Optional, PathArg, Real, Seed, Text,
)
from impl.harness.sweep import Case, HeavyCase

CONTENT = b"abc"
REMOTE = fetch.RemoteFile("sweep", "blob.bin", ("https://example.invalid/blob.bin",), hashlib.sha256(CONTENT).hexdigest())
RECORD = bytes([3]) + bytes(range(256)) * 12  # one CIFAR-10 record: label 3, 3,072 pixel bytes
IMAGES_IDX = np.array([2051, 1, 2, 2], ">u4").tobytes() + bytes([0, 64, 128, 255])
LABELS_IDX = np.array([2049, 2], ">u4").tobytes() + bytes([7, 1])
Y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
RATINGS = movielens.Ratings(*(np.array(column) for column in (
    [1, 2, 1, 2, 1, 2, 1, 2], [1, 1, 2, 2, 3, 3, 1, 2], [5, 4, 3, 2, 1, 5, 4, 3], list(range(8)))))
PROBABILITY = dict(low=0.0, high=1.0, low_open=True, high_open=True)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("gutenberg/tiny.txt", "Call me Ishmael.\r\n")
    return buffer.getvalue()


@functools.cache
def scratch() -> Path:
    """A private folder with a verified blob, a prepared npz and a one-file mirror (built when the sweep runs)."""
    folder = Path(tempfile.mkdtemp(prefix="claims-input-sweep-"))
    atexit.register(shutil.rmtree, folder, True)
    prepared.save_bytes(folder / "blob.bin", CONTENT)
    prepared.save(folder / "arrays.npz", {"X_test": np.zeros((2, 2)), "y_test": np.arange(2)})
    (folder / "mirror" / REMOTE.dataset).mkdir(parents=True)
    (folder / "mirror" / REMOTE.dataset / REMOTE.name).write_bytes(CONTENT)
    return folder


def in_scratch(name: str) -> Lazy:
    return Lazy(lambda: scratch() / name)


def offline(url, timeout=None):
    raise OSError("offline (the sweep never downloads)")


def serve(url, timeout=None):
    return io.BytesIO(CONTENT)


CASES = [
    Case(cifar10.parse_records, Bytes(RECORD), Text("cifar10")),
    HeavyCase(cifar10.read_prepared, PathArg(cifar10.PREPARED)),
    HeavyCase(cifar10.load, Choice("test", cifar10.SPLITS)),
    HeavyCase(cifar10.subset, Choice("test", cifar10.SPLITS), Count(100, 1, 1000), Seed()),
    HeavyCase(cifar10.train_val, Count(100), Count(100), Seed()),
    Case(diabetes.load),
    Case(digits.load),
    Case(fetch.sha256_hex, Bytes(CONTENT, nonempty=False)),
    Case(fetch.content_of, Instance(REMOTE), Bytes(CONTENT, nonempty=False), Text("scratch"), Flag(False)),
    Case(fetch.raw_path, Instance(REMOTE), Optional(PathArg(in_scratch("raw")))),
    Case(fetch.mirror_path, Instance(REMOTE), Optional(PathArg(in_scratch("mirror")))),
    Case(fetch.fetch_bytes, Instance(REMOTE), mirror=Optional(PathArg(in_scratch("mirror"))),
         raw_dir=Optional(PathArg(in_scratch("raw"))), opener=Instance(offline), progress=Flag(False)),
    Case(fetch.download, Instance(REMOTE), Text(REMOTE.urls[0]), PathArg(in_scratch("downloads/blob.bin")),
         opener=Instance(serve), progress=Flag(False)),
    Case(gutenberg.tokenize, Text("Call me Ishmael.", nonempty=False)),
    Case(gutenberg.decode, Bytes(b"caf\xe9", nonempty=False)),
    Case(gutenberg.unpack, Bytes(_zip())),
    HeavyCase(gutenberg.texts),
    HeavyCase(gutenberg.encodings),
    HeavyCase(gutenberg.words, Choice("austen-emma.txt", gutenberg.FILEIDS)),
    Case(idx.parse_images, Bytes(IMAGES_IDX), Text("images")),
    Case(idx.parse_labels, Bytes(LABELS_IDX), Text("labels")),
    HeavyCase(mnist.read_prepared, PathArg(mnist.PREPARED)),
    HeavyCase(mnist.load, Choice("test", mnist.SPLITS)),
    HeavyCase(mnist.subset, Choice("test", mnist.SPLITS), Count(100, 1, 10_000), Seed()),
    HeavyCase(mnist5k.train_test, Seed(), Count(4000, 10, 60_000), Count(1000, 10, 10_000)),
    HeavyCase(mnist5k.held_out, Seed(), Counts((1000, 200)), Count(4000, 10, 60_000)),
    Case(movielens.packaged_dir),
    Case(movielens.unavailable_reason),
    Case(movielens.parse_u_data, Bytes(b"1\t2\t3\t4\n5\t6\t4\t8\n")),
    HeavyCase(movielens.read_packaged, PathArg(Lazy(movielens.packaged_dir))),
    Case(movielens.canonical_copy_at_hand),
    HeavyCase(movielens.fetch_ratings),
    HeavyCase(movielens.ratings),
    Case(movielens.split, Instance(RATINGS), Real(0.25, **PROBABILITY), Seed()),
    HeavyCase(movielens.fixed_split),
    Case(packaged.package_dir, Text("sklearn")),
    Case(packaged.verified_bytes, Text("sklearn"), Text("datasets/data/iris.csv"), Text(toy.SHA256["iris.csv"]),
         gunzip=Flag(False)),
    Case(prepared.sidecar, PathArg(in_scratch("blob.bin"))),
    Case(prepared.save_bytes, PathArg(in_scratch("saved.bin")), Bytes(CONTENT, nonempty=False)),
    Case(prepared.load_bytes, PathArg(in_scratch("blob.bin")), Text("blob")),
    Case(prepared.save, PathArg(in_scratch("saved.npz")), ArrayDict({"X_test": np.zeros((2, 2))})),
    Case(prepared.load, PathArg(in_scratch("arrays.npz")), Text("arrays")),
    HeavyCase(prepared.load_split, PathArg(mnist.PREPARED), Text("MNIST"), Choice("test", mnist.SPLITS),
              Instance(mnist.SPLITS)),
    Case(series.sunspots_yearly),
    Case(series.sunspots_monthly),
    Case(series.co2_weekly),
    Case(splits.stratified_counts, Labels(Y), Count(4, 1, 8, cheap_max=True)),
    Case(splits.stratified_indices, Labels(Y), Count(4, 1, 8, cheap_max=True), Seed()),
    Case(splits.stratified_disjoint, Labels(Y), Counts((3, 3)), Seed()),
    Case(splits.stratified_subset, Instance(mnist.Split(np.zeros((8, 2, 2), np.uint8), Y)), Count(4, 1, 8, cheap_max=True), Seed()),
    Case(toy.iris),
    Case(toy.wine),
]


test_rejects_bad_input = bad_input_claim("impl.data", CASES, subject="the data loaders (impl/data)",
                                         course="all lessons")
