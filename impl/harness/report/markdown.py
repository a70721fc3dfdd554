"""reports/lessons/<folder>.md: lays out one lesson of the report model as Markdown.

Every fact comes from `model`; this module only formats and escapes. Text in table cells
goes through `cell`, other text through `block` (record strings can hold `<`, `|`, newlines).
"""
from __future__ import annotations

from impl.harness.report.model import CORRECTIONS_HEADER, HOSTS_HEADER, ClaimView, LessonView, host_rows

FIGURES_FROM_LESSON_PAGE = "../figures"  # lesson pages live in reports/lessons/, figures in reports/figures/


def cell(text: str) -> str:
    """Escape text for a Markdown table cell (pipes, angle brackets, newlines)."""
    return block(text).replace("|", "\\|").replace("\n", " ")


def block(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A table whose header and cells are escaped here (callers pass plain text)."""
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|---" * len(header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def _meta(claim: ClaimView) -> str:
    artifacts = ", ".join(f"{a.path} (md5 {a.md5_short})" for a in claim.artifacts) or "none"
    return (f"<sub>spec <code>{block(claim.nodeid)}</code> · profile {block(claim.profile)} · "
            f"seeds {block(claim.seeds)} · {block(claim.duration)} · artifacts: {block(artifacts)} · "
            f"commit {block(claim.commit)} · {block(claim.timestamp)}{block(claim.formerly_line)}</sub>")


def claim_section(claim: ClaimView) -> list[str]:
    lines = [f"### {block(claim.id)} — {claim.badge}", ""]
    lines += [f"> {block(line)}" if line else ">" for line in claim.statement.splitlines()]
    lines.append("")
    if claim.hosts:
        lines += [f"**On {len(claim.hosts)} hosts** (details below from the first):", ""]
        lines += _table(HOSTS_HEADER, [list(row) for row in host_rows(claim)])
    if claim.history_line:
        lines += [f"*history:* {block(claim.history_line)}", ""]
    if claim.runs:
        lines += [f"**Runs:** {len(claim.runs)} cases, {claim.held}/{claim.ran} hold.", ""]
        lines += _table(["case", "verdict", "seeds", "message"],
                        [[run.key, run.verdict, run.seeds, run.message] for run in claim.runs])
    elif claim.message:
        lines += [f"**{claim.verdict}:** {block(claim.message)}", ""]
    if claim.checks:
        lines += _table(["check", "observed", "threshold", "ok"],
                        [[c.name, c.observed, c.threshold, "yes" if c.ok else "NO"] for c in claim.checks])
    if claim.extras:
        lines += ["Also measured: " + "; ".join(f"{cell(name)} = {cell(value)}" for name, value in claim.extras), ""]
    if claim.table_rows and claim.table_columns:
        lines += _table(["measured", *claim.table_columns], [[name, *values] for name, values in claim.table_rows])
    for figure in claim.figures:
        lines += [f"![{cell(figure.title)}]({FIGURES_FROM_LESSON_PAGE}/{figure.file_name})", ""]
    return lines + [_meta(claim), ""]


def lesson_page(lesson: LessonView) -> str:
    lines = [f"# {block(lesson.title)}", ""]
    if lesson.introduction:
        lines += [block(lesson.introduction), ""]
    lines += [f"Verdicts: {lesson.counts_line}.", ""]
    lines += _table(["claim", "verdict", "tightest check (closest to its threshold)"],
                    [[claim.id, claim.badge, claim.summary] for claim in lesson.claims])
    if lesson.corrections:
        lines += ["## Corrections: what the sources say and what holds", ""] + _table(
            CORRECTIONS_HEADER, [pair.row for pair in lesson.corrections])
    if lesson.stages:
        lines += ["## Stages", ""] + _table(["stage", "headline figures (data/metrics)", "wall s", "CPU that built its outputs"], lesson.stages)
    for claim in lesson.claims:
        lines += claim_section(claim)
    versions = ", ".join(f"{name} {version}" for name, version in lesson.versions)
    lines += ["## Provenance", ""]
    lines += [f"- Hardware: {block(line)}" for line in lesson.hardware]
    lines += [f"- Profile: {block(', '.join(lesson.profiles))}", f"- Versions: {block(versions)}", ""]
    return "\n".join(lines)
