"""The README's generated sections: the lesson map and the claims table.

They live between `<!-- BEGIN GENERATED: name -->` and `<!-- END GENERATED: name -->`
markers and are rewritten by `make readme` from specs/, dvc.yaml and results.json.
"""
from __future__ import annotations

import re
from pathlib import Path

from impl.harness.report.markdown import cell
from impl.harness.report.model import LessonView, lesson_title
from impl.pipeline import stages


def _stages_by_lesson(root: Path) -> dict[str, list[str]]:
    """A lesson's stage names (its `verify` aside) from impl/<lesson>/dvc.yaml."""
    found: dict[str, list[str]] = {}
    for stage in stages.all_stages(root):
        folder = Path(stage.dvcfile).parent.name
        if stage.dvcfile != "dvc.yaml" and stage.name != "verify":
            found.setdefault(folder, []).append(stage.name)
    return found


def lesson_map(root: Path) -> str:
    by_lesson = _stages_by_lesson(root)
    lines = ["| lesson | specs | impl | DVC stages | report |", "|---|---|---|---|---|"]
    for folder in sorted(p.name for p in (root / "specs").iterdir() if (p / "__init__.py").is_file()):
        impl = f"`impl/{folder}/`" if (root / "impl" / folder).is_dir() else "—"
        stage_list = ", ".join(f"`{s}`" for s in by_lesson.get(folder, [])) or "—"
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
