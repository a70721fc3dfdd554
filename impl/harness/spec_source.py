"""A spec file's module-level definitions, read from its source with `ast` (no import: a spec module may
import TensorFlow). The claim reader (`spec_claims`), the report's spec links (`report.evidence`) and
`explain` (`cli.explain`) all find a test's definition here, so they agree on what a name points at."""
from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["parse", "definitions"]


def parse(path: Path) -> ast.Module | None:
    """The file's syntax tree, or None when it cannot be read or parsed."""
    try:
        return ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None


def definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    """'name' and 'Class::name' -> the statement that last defines it, in source order of first definition:
    every module-level function, every function of a module-level class, and every module-level name
    assigned (a generated claim: `test_rejects_bad_input = bad_input_claim(...)`)."""
    if not isinstance(tree, ast.Module):
        raise TypeError(f"tree must be an ast.Module, got {type(tree).__name__}")
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, ast.Assign):
            found.update({target.id: node for target in node.targets if isinstance(target, ast.Name)})
        elif isinstance(node, ast.ClassDef):
            found.update({f"{node.name}::{item.name}": item for item in node.body
                          if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))})
    return found
