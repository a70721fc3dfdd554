"""What a DVC stage really depends on: the project files its code imports, found by an AST walk.

Every `import` / `from ... import` inside the project (function-local ones included) is
followed, with the `__init__.py` of each package on the way. Third-party modules are not
files of this project and are tracked by requirements.lock instead. Data files count too: a
lesson's knobs (`impl/<lesson>/params.yaml`) wherever the code reads them
(`knobs("<lesson>", ...)`, `stage_main(run, "<lesson>", ...)`), a spec folder's thresholds
(`claims.yaml`), and for `verify` the shared switches (`params.yaml`) the plugin reads.

`python -m impl.pipeline.closure` prints, per stage, the files its deps fail to cover;
`python -m impl.pipeline.closure --write` adds them to the stage's `deps:` in its dvc.yaml (each
in sorted place), so a new shared module means one command, not an edit per lesson.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

from impl import paths

PACKAGES = ("impl", "specs")  # top-level packages that are files of this project
KNOB_READERS = ("knobs", "raw_knobs", "stage_main")  # calls whose first argument names a lesson's knobs


def module_file(module: str, root: Path) -> Path | None:
    """`impl.a.b` -> impl/a/b.py or impl/a/b/__init__.py, or None outside the project."""
    if module.split(".")[0] not in PACKAGES:
        return None
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root) if path.name == "__init__.py" else _module_name(path, root).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytest_plugins" for t in node.targets):
            if isinstance(node.value, (ast.List, ast.Tuple)):  # conftest: pytest_plugins = ["impl.harness.plugin"]
                found.update(elt.value for elt in node.value.elts if isinstance(elt, ast.Constant))
    return found


def knob_lessons(path: Path) -> set[str]:
    """Lessons whose params.yaml the file reads: `knobs("l3_optim", ...)` and the like."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            args = [a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if name == "stage_main":  # stage_main(run, "<lesson>", "<section>" or None)
                lesson, section = (node.args + [None, None])[1:3]
                if isinstance(section, ast.Constant) and section.value is not None and isinstance(lesson, ast.Constant):
                    found.add(lesson.value)
            elif name in KNOB_READERS and node.args and node.args[0] in args:
                found.add(node.args[0].value)
    return found


def _with_packages(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def closure(start: list[Path], root: Path | None = None) -> set[Path]:
    """Every project file reachable by imports from `start`, plus the knob/threshold files beside them."""
    root = Path(root or paths.ROOT)
    seen: set[Path] = set()
    todo = [Path(p) for p in start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.suffix != ".py":
            continue
        for module in imported_modules(path, root):
            for name in _with_packages(module):
                found = module_file(name, root)
                if found is not None and found not in seen:
                    todo.append(found)
    python = [p for p in seen if p.suffix == ".py"]
    knobs = {root / "impl" / lesson / "params.yaml" for p in python for lesson in knob_lessons(p)}
    claims = {p.parent / "claims.yaml" for p in python if (p.parent / "claims.yaml").is_file()}
    return seen | knobs | claims


def stage_needs(stage, root: Path | None = None) -> set[str]:
    """Root-relative files a stage's command reads: its entry point's closure (verify: the lesson's specs)."""
    root = Path(root or paths.ROOT)
    if stage.verified_lesson is not None:
        lesson = stage.verified_lesson
        start = [root / "conftest.py", root / "params.yaml", *sorted((root / "specs" / lesson).rglob("*.py"))]
    elif stage.module is not None:
        entry = module_file(stage.module, root)
        start = [entry]
        if entry is not None and entry.name == "__init__.py":  # `python -m <package>` runs its __main__.py
            start.append(entry.with_name("__main__.py"))
    else:
        return set()
    return {p.relative_to(root).as_posix() for p in closure([p for p in start if p is not None and p.is_file()], root)}


def uncovered(stage, root: Path | None = None) -> list[str]:
    """Files the stage reads that neither its deps nor its params files cover."""
    return sorted(f for f in stage_needs(stage, root) if not stage.covers(f) and f not in stage.params)


def add_deps(text: str, stage_name: str, missing: list[str]) -> str:
    """`text` (a dvc.yaml) with `missing` added to stage `stage_name`'s deps list, each before the first
    existing entry that sorts after it (so a sorted list stays sorted), the list's indentation kept."""
    lines = text.splitlines(keepends=True)
    header = next((i for i, line in enumerate(lines) if line.strip() == f"{stage_name}:"
                   and len(line) - len(line.lstrip()) == 2), None)
    if header is None:
        raise ValueError(f"no stage {stage_name!r} at indent 2 in this dvc.yaml")
    deps = next((i for i in range(header + 1, len(lines)) if lines[i].strip() == "deps:"), None)
    if deps is None:
        raise ValueError(f"stage {stage_name!r} has no `deps:` list to add to")
    items = []
    for i in range(deps + 1, len(lines)):
        stripped = lines[i].strip()
        if not stripped.startswith("- "):
            break
        items.append(i)
    if not items:
        raise ValueError(f"stage {stage_name!r}: its `deps:` list is empty or not a block list")
    indent = lines[items[0]][: len(lines[items[0]]) - len(lines[items[0]].lstrip())]
    for path in sorted(missing, reverse=True):
        at = next((i for i in items if lines[i].strip()[2:].strip() > path), items[-1] + 1)
        lines.insert(at, f"{indent}- {path}\n")
        items = [i + 1 if i >= at else i for i in items] + [at]
        items.sort()
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    from impl.pipeline import stages

    write = "--write" in (sys.argv[1:] if argv is None else argv)
    problems = 0
    for stage in stages.all_stages():
        missing = uncovered(stage)
        if not missing:
            continue
        problems += 1
        if write:
            path = paths.ROOT / stage.dvcfile
            path.write_text(add_deps(path.read_text(encoding="utf-8"), stage.name, missing), encoding="utf-8")
            print(f"{stage.address}: added {missing}")
        else:
            print(f"{stage.address}: deps miss {missing}")
    return 0 if write or not problems else 1


if __name__ == "__main__":
    sys.exit(main())
