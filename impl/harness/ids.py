"""Claim ids, derived from where a spec lives; never typed by hand.

`specs/l3_optim/test_adam.py::test_mnist` -> `L3.adam.mnist`;
`specs/beyond/test_trees.py::test_gini`  -> `B.trees.gini`;
`specs/data/test_mnist.py::test_counts`  -> `D.mnist.counts` (dataset claims).
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath

_LESSON_DIR = re.compile(r"^l(\d+)_[a-z0-9_]+$")


SPECIAL_FOLDERS = {"beyond": "B", "data": "D"}


def folder_of(nodeid: str) -> str:
    """The folder a test's file sits in, two levels deep: `specs/l5_quantization`, `tests/harness`."""
    return "/".join(nodeid.partition("::")[0].split("/")[:2])


def spec_folder(nodeid: str) -> str | None:
    """The lesson folder of a node id under specs/<folder>/ (`specs/l5_quantization/test_onnx.py::test_x` ->
    `l5_quantization`), None for any other test (a harness test, or a file directly under specs/)."""
    parts = nodeid.partition("::")[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "specs" else None


def lesson_of(folder: str) -> str:
    """`l1_linalg` -> `L1`; `beyond` -> `B`; `data` -> `D`."""
    if folder in SPECIAL_FOLDERS:
        return SPECIAL_FOLDERS[folder]
    match = _LESSON_DIR.match(folder)
    if not match:
        raise ValueError(f"spec folder {folder!r} is not l<N>_<topic> or one of {sorted(SPECIAL_FOLDERS)}")
    return f"L{int(match.group(1))}"


def claim_id(relpath: str, function: str) -> str:
    """Claim id from a spec file path relative to the project root and a test name."""
    parts = PurePosixPath(relpath).parts
    if len(parts) != 3 or parts[0] != "specs":
        raise ValueError(f"specs live at specs/<lesson>/test_<topic>.py, not {relpath!r}")
    folder, filename = parts[1], parts[2]
    if not (filename.startswith("test_") and filename.endswith(".py")):
        raise ValueError(f"spec file must be named test_<topic>.py, not {filename!r}")
    if not function.startswith("test_"):
        raise ValueError(f"spec function must be named test_<slug>, not {function!r}")
    topic = filename[len("test_"):-len(".py")]
    slug = function[len("test_"):]
    return f"{lesson_of(folder)}.{topic}.{slug}"


def split_nodeid(nodeid: str) -> tuple[str, str, str]:
    """`specs/a/test_b.py::test_c[x]` -> (`specs/a/test_b.py`, `test_c`, `x`)."""
    path, _, name = nodeid.partition("::")
    function, _, rest = name.partition("[")
    return path, function, rest[:-1] if rest.endswith("]") else rest


def record_key(nodeid: str) -> str:
    """The results.json key: the claim id, plus `[params]` for a parametrized case."""
    path, function, params = split_nodeid(nodeid)
    base = claim_id(path, function)
    return f"{base}[{params}]" if params else base
