import gzip
import shutil
import urllib.error

import numpy as np
import pytest

from impl import paths
from impl.data import fetch, idx, mnist, prepared

LABELS = mnist.REMOTES["train-labels-idx1-ubyte.gz"]  # the smallest MNIST file (29 kB)


def _stored_labels() -> bytes:
    """The MNIST labels file as stored: from the mirror, else from the download cache."""
    mirrored = fetch.mirror_path(LABELS, paths.data_mirror())
    if mirrored is not None and mirrored.is_file():
        return mirrored.read_bytes()
    mnist.load("train")  # online, the data_mnist stage downloads into data/raw
    return fetch.raw_path(LABELS).read_bytes()


def _mirror_copy(tmp_path, mutate=None):
    """A private mirror holding one MNIST file, optionally mutated (the shared mirror is read-only)."""
    target = tmp_path / "mirror" / LABELS.dataset / LABELS.name
    target.parent.mkdir(parents=True)
    data = _stored_labels()
    target.write_bytes(mutate(data) if mutate else data)
    return tmp_path / "mirror"


def _offline(url, timeout=None):
    raise urllib.error.URLError("network is unreachable (simulated)")


@pytest.mark.cpu
def test_missing_source(claim, tmp_path):
    """With no mirror copy and no network, fetching a dataset file fails with one error that names
    the file, the canonical URL it tried and the mirror path it looked at; nothing is written.

    Course: all lessons (data never silently replaced by synthetic data).
    """
    remote = fetch.RemoteFile(LABELS.dataset, LABELS.name, ("https://unreachable.invalid/" + LABELS.name,), LABELS.sha256)
    with pytest.raises(fetch.DataUnavailableError) as error:
        fetch.fetch_bytes(remote, mirror=tmp_path / "empty_mirror", raw_dir=tmp_path / "raw", opener=_offline)
    message = str(error.value)
    claim.record(message=message)
    claim.expect("names_file", LABELS.name in message, "==", True)
    claim.expect("names_url", remote.urls[0] in message, "==", True)
    claim.expect("names_mirror_path", str(tmp_path / "empty_mirror" / LABELS.dataset / LABELS.name) in message, "==", True)
    claim.expect("files_left", len([p for p in tmp_path.rglob("*") if p.is_file()]), "==", 0)


@pytest.mark.cpu
def test_corrupt_raw(claim, tmp_path):
    """A truncated file, a flipped byte in the gzip stream and a flipped bit in the decompressed
    content are each rejected by the checksum check before any array is built, while an intact
    copy of the same file passes. Bytes handed to the IDX parsers directly (no checksum on that
    path) are refused when truncated or of the other IDX kind, the error giving the byte count the
    header promises and the magic number found.

    Course: all lessons (verified bytes before use).
    """
    def flip_content_bit(data):
        content = bytearray(gzip.decompress(data))
        content[5000] ^= 0x01  # a valid gzip of wrong content: only the sha256 can catch it
        return gzip.compress(bytes(content))

    def flip_stream_byte(data):
        data = bytearray(data)
        data[len(data) // 2] ^= 0xFF
        return bytes(data)

    cases = {"truncated": lambda data: data[: len(data) // 2], "gzip_byte_flipped": flip_stream_byte,
             "content_bit_flipped": flip_content_bit}
    for number, (name, mutate) in enumerate(cases.items()):
        mirror = _mirror_copy(tmp_path / name, mutate)
        with pytest.raises(fetch.ChecksumError) as error:
            fetch.fetch_bytes(LABELS, mirror=mirror, raw_dir=tmp_path / name / "raw", opener=_offline)
        claim.expect(f"{name}_rejected_naming_file", LABELS.name in str(error.value), "==", True)
    intact = fetch.fetch_bytes(LABELS, mirror=_mirror_copy(tmp_path / "intact"), raw_dir=tmp_path / "raw", opener=_offline)
    claim.expect("intact_copy_bytes", len(intact), "==", 60_008)

    labels = intact  # the decompressed IDX1 file: magic 2049, 60,000 labels
    images = np.array([2051, 2, 3, 3], dtype=">u4").tobytes() + bytes(17)  # 2 images of 3 x 3 promise 34 bytes
    with pytest.raises(ValueError) as truncated_images:
        idx.parse_images(images)
    claim.expect("truncated_images_promise_named", "promises 34" in str(truncated_images.value), "==", True)
    with pytest.raises(ValueError) as truncated_labels:
        idx.parse_labels(labels[:-1])
    claim.expect("truncated_labels_promise_named", "promises 60008" in str(truncated_labels.value), "==", True)
    with pytest.raises(ValueError) as wrong_kind:
        idx.parse_labels(images)
    claim.expect("wrong_kind_magic_named", "magic [2051]" in str(wrong_kind.value), "==", True)


class _DroppedConnection:
    """A response that delivers one chunk, then the connection drops."""

    def __init__(self):
        self.sent = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, size=-1):
        if self.sent:
            raise ConnectionResetError("connection reset by peer (simulated)")
        self.sent = True
        return b"\x1f\x8b" + b"\x00" * 1000


@pytest.mark.cpu
def test_interrupted_write(claim, tmp_path):
    """A download that breaks off mid-stream and a prepare step that fails mid-write leave nothing
    partial behind: no target file and no temp file, and an earlier good prepared file stays
    intact and verifiable.

    Course: all lessons (atomic artifacts).
    """
    raw = tmp_path / "raw"
    with pytest.raises(fetch.DataUnavailableError):
        fetch.fetch_bytes(LABELS, mirror=None, raw_dir=raw, opener=lambda url, timeout=None: _DroppedConnection())
    claim.expect("files_after_dropped_download", len([p for p in raw.rglob("*") if p.is_file()]), "==", 0)

    class Exploding:
        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("disk full (simulated) while serialising the second array")

    target = tmp_path / "prepared" / "toy.npz"
    good = {"X": np.arange(10), "y": np.arange(10) % 2}
    prepared.save(target, good)
    with pytest.raises(RuntimeError):
        prepared.save(target, {"X": np.zeros(5), "y": Exploding()})
    left = sorted(p.name for p in target.parent.iterdir())
    claim.record(files_after_failed_prepare=left)
    claim.expect("only_good_pair_left", left, "==", ["toy.npz", "toy.npz.sha256"])
    claim.expect("good_file_intact", bool(np.array_equal(prepared.load(target)["X"], good["X"])), "==", True)


@pytest.mark.cpu
def test_corrupt_prepared(claim, tmp_path):
    """A prepared data file whose bytes change after it was written (a flipped byte, a truncation, a
    lost checksum sidecar) is refused on load with an error naming the file and saying how to rebuild.

    Course: all lessons (DVC outputs are verified, `dvc repro` rebuilds them).
    """
    source = mnist.load("test") and mnist.PREPARED  # a copy of the real DVC output
    cases = {
        "byte_flipped": lambda p: p.write_bytes(p.read_bytes()[:1000] + bytes([p.read_bytes()[1000] ^ 1]) + p.read_bytes()[1001:]),
        "truncated": lambda p: p.write_bytes(p.read_bytes()[:-100]),
        "sidecar_lost": lambda p: prepared.sidecar(p).unlink(),
    }
    for name, damage in cases.items():
        copy = tmp_path / name / "mnist.npz"
        copy.parent.mkdir()
        shutil.copyfile(source, copy)
        shutil.copyfile(prepared.sidecar(source), prepared.sidecar(copy))
        mnist.read_prepared(copy)  # the undamaged copy loads
        damage(copy)
        with pytest.raises(prepared.CorruptPreparedError) as error:
            mnist.read_prepared(copy)
        message = str(error.value)
        claim.expect(f"{name}_refused_naming_file", str(copy) in message and "dvc repro" in message, "==", True)
