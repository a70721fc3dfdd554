"""The README's generated sections: the lesson map and the claims table.

They live between `<!-- BEGIN GENERATED: name -->` and `<!-- END GENERATED: name -->`
markers and are rewritten by `make readme` from specs/, dvc.yaml and results.json.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from impl.harness.report.markdown import cell
from impl.harness.report.model import LessonView, lesson_title


def _stages_by_package(root: Path) -> dict[str, list[str]]:
    """Stage names by the impl package their command runs, from dvc.yaml and each impl/<lesson>/dvc.yaml."""
    found: dict[str, list[str]] = {}
    for dvc_file in [root / "dvc.yaml", *sorted((root / "impl").glob("*/dvc.yaml"))]:
        if not dvc_file.is_file():
            continue
        dvc = yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}
        for name, stage in (dvc.get("stages") or {}).items():
            match = re.search(r"-m impl\.([a-z0-9_]+)", str(stage.get("cmd", "")))
            if match:
                found.setdefault(match.group(1), []).append(name)
    return found


def lesson_map(root: Path) -> str:
    stages = _stages_by_package(root)
    lines = ["| lesson | specs | impl | DVC stages | report |", "|---|---|---|---|---|"]
    for folder in sorted(p.name for p in (root / "specs").iterdir() if (p / "__init__.py").is_file()):
        impl = f"`impl/{folder}/`" if (root / "impl" / folder).is_dir() else "—"
        stage_list = ", ".join(f"`{s}`" for s in stages.get(folder, [])) or "—"
        lines.append(f"| {cell(lesson_title(root, folder))} | `specs/{folder}/` | {impl} | {stage_list} | "
                     f"`reports/lessons/{folder}.md` |")
    return "\n".join(lines)


def claims_table(lessons: list[LessonView]) -> str:
    lines = ["| claim | statement | verdict | spec |", "|---|---|---|---|"]
    for lesson in lessons:
        for claim in lesson.claims:
            sentence = " ".join(claim.statement.split("\n\n")[0].split())
            lines.append(f"| {cell(claim.id)} | {cell(sentence)} | {claim.badge} | "
                         f"`{claim.nodeid.split('[')[0]}` |")
    return "\n".join(lines)


def replace_section(text: str, name: str, content: str) -> str:
    begin, end = f"<!-- BEGIN GENERATED: {name} -->", f"<!-- END GENERATED: {name} -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"README has no '{begin}' ... '{end}' markers")
    return pattern.sub(lambda _: f"{begin}\n{content}\n{end}", text)
