"""The README's generated sections: the lesson map and the claims table.

They live between `<!-- BEGIN GENERATED: name -->` and `<!-- END GENERATED: name -->`
markers and are rewritten by `make readme` from specs/, dvc.yaml and results.json.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from impl.harness.report.markdown import cell
from impl.harness.report.model import Lesson, lesson_title
from impl.harness.report.text import VERDICT_BADGE


def _stages_by_package(root: Path) -> dict[str, list[str]]:
    dvc = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8")) or {}
    found: dict[str, list[str]] = {}
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
                     f"`reports/{folder}.md` |")
    return "\n".join(lines)


def claims_table(lessons: list[Lesson]) -> str:
    lines = ["| claim | statement | verdict | spec |", "|---|---|---|---|"]
    for lesson in lessons:
        for claim in lesson.claims:
            sentence = " ".join(claim.statement.split("\n\n")[0].split())
            lines.append(f"| {claim.id} | {cell(sentence)} | {VERDICT_BADGE[claim.verdict]} | "
                         f"`{claim.first['nodeid'].split('[')[0]}` |")
    return "\n".join(lines)


def replace_section(text: str, name: str, content: str) -> str:
    begin, end = f"<!-- BEGIN GENERATED: {name} -->", f"<!-- END GENERATED: {name} -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"README has no '{begin}' ... '{end}' markers")
    return pattern.sub(lambda _: f"{begin}\n{content}\n{end}", text)
