"""Where a claim's evidence lives in the source tree, read at render time without importing anything.

- `spec_location`: the spec file and the line of its test function, found by parsing the file (AST).
- `threshold_reasons`: each threshold's reason, the `# comment` after its key in specs/<lesson>/claims.yaml
  (comment-only or nested lines below a key, indented deeper, continue its reason).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from impl.harness import spec_source

_CLAIM_ID = re.compile(r"^([A-Za-z0-9_.\-\[\]]+):\s*(#.*)?$")
_KEY = re.compile(r"^(\s+)([A-Za-z0-9_]+)\s*:(.*)$")


@functools.lru_cache(maxsize=512)
def _function_lines(path: Path, mtime_ns: int) -> dict[str, int]:
    """'name' and 'Class::name' -> line of each definition in the file (`spec_source.definitions`); mtime keys
    the cache."""
    tree = spec_source.parse(path)
    return {name: node.lineno for name, node in spec_source.definitions(tree).items()} if tree else {}


def spec_location(root: Path, nodeid: str) -> tuple[str, int | None]:
    """(spec file relative to the root, line of the test function or None when it cannot be found)."""
    if not isinstance(nodeid, str) or "::" not in nodeid:
        raise ValueError(f"nodeid must look like 'specs/<lesson>/test_x.py::test_y', got {nodeid!r}")
    file, _, function = nodeid.partition("::")
    path = Path(root) / file
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return file, None
    return file, _function_lines(path, mtime).get(function.partition("[")[0])


def _comment(line: str) -> str:
    """The text of a YAML comment on the line ('' when none): a '#' that starts the line or follows a space."""
    stripped = line.lstrip()
    if stripped.startswith("#"):
        return stripped[1:].strip()
    found = re.search(r"\s#(.*)$", line)
    return found.group(1).strip() if found else ""


def parse_reasons(text: str) -> dict[str, dict[str, str]]:
    """claims.yaml text -> {claim id: {threshold key: reason}}; keys without a comment are left out."""
    if not isinstance(text, str):
        raise TypeError(f"text must be the file's text, got {type(text).__name__}")
    reasons: dict[str, dict[str, list[str]]] = {}
    claim, key, key_indent = None, None, 0
    for line in text.splitlines():
        if not line.strip():
            continue
        top = _CLAIM_ID.match(line)
        if top and not line[0].isspace():
            claim, key = top.group(1), None
            reasons.setdefault(claim, {})
            continue
        if claim is None or line.lstrip().startswith("#") and not line[0].isspace():
            continue
        indent = len(line) - len(line.lstrip())
        comment = _comment(line)
        keyed = _KEY.match(line)
        if keyed and (key is None or indent <= key_indent):
            key, key_indent = keyed.group(2), indent
            if comment:
                reasons[claim].setdefault(key, []).append(comment)
        elif key is not None and indent > key_indent and comment:
            reasons[claim].setdefault(key, []).append(comment)
    return {c: {k: " ".join(parts) for k, parts in keys.items()} for c, keys in reasons.items()}


@functools.lru_cache(maxsize=64)
def _reasons_of_file(path: Path, mtime_ns: int) -> dict[str, dict[str, str]]:
    try:
        return parse_reasons(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def threshold_reasons(root: Path, lesson_folder: str, claim_id: str) -> dict[str, str]:
    """The reasons given in specs/<lesson_folder>/claims.yaml for `claim_id`'s thresholds ({} when none)."""
    if not isinstance(lesson_folder, str) or not isinstance(claim_id, str):
        raise TypeError("lesson_folder and claim_id must be strings")
    path = Path(root) / "specs" / lesson_folder / "claims.yaml"
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return {}
    return _reasons_of_file(path, mtime).get(claim_id, {})
