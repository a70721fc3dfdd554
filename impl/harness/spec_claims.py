"""The claims a spec file declares, read from its source (no import: a spec module may import TensorFlow).

A claim is a module-level `def test_<slug>(...)` whose docstring is its statement, or a module-level
`test_<slug> = bad_input_claim(..., subject="...", course="...")` whose statement is
`input_claim.STATEMENT` filled with those two literal arguments. Readers that need a claim's line or
statement without running it (the README check, the threshold check, the report's spec links) use this.
"""
from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import NamedTuple

from impl.harness.input_claim import STATEMENT
from impl.harness.spec_source import definitions

__all__ = ["Declared", "claims_in"]


class Declared(NamedTuple):
    name: str
    line: int
    statement: str  # the docstring as `inspect.getdoc` would return it ("" when there is none)


def _generated_statement(call: ast.Call) -> str | None:
    """The statement of a `bad_input_claim(...)` call whose subject and course are string literals."""
    if not (isinstance(call.func, ast.Name) and call.func.id == "bad_input_claim"):
        return None
    words = {kw.arg: kw.value.value for kw in call.keywords
             if kw.arg in ("subject", "course") and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)}
    return inspect.cleandoc(STATEMENT.format(**words)) if len(words) == 2 else None


def claims_in(path: Path) -> list[Declared]:
    """Every claim the spec file at `path` declares at module level, in source order."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    found = []
    for name, node in definitions(tree).items():
        if not name.startswith("test_"):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(Declared(name, node.lineno, ast.get_docstring(node) or ""))
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            statement = _generated_statement(node.value)
            if statement is not None:
                found.append(Declared(name, node.lineno, statement))
    return found
