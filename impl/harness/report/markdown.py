"""One Markdown page per lesson: every claim with verdict, checks, plots and provenance."""
from __future__ import annotations

from impl.harness.report.figures import slug
from impl.harness.report.model import ClaimResult, Lesson
from impl.harness.report.text import (
    VERDICT_BADGE, check_line, git_line, hardware_line, key_check, number, observation_table, scalar_observations,
)


def cell(text: str) -> str:
    """Escape text for a Markdown table cell (pipes, angle brackets, newlines)."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|").replace("\n", " "))


def block(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def figure_name(claim_id: str, index: int, title: str) -> str:
    return f"{claim_id.replace('.', '_')}-{index}-{slug(title)}.png"


def claim_section(claim: ClaimResult) -> list[str]:
    record = claim.first
    lines = [f"### {claim.id} — {VERDICT_BADGE[claim.verdict]}", ""]
    lines += [f"> {block(line)}" if line else ">" for line in claim.statement.splitlines()]
    lines.append("")
    if len(claim.records) > 1:
        held, ran = claim.pass_fraction
        lines.append(f"**Runs:** {len(claim.records)} cases, {held}/{ran} hold.")
        lines.append("")
        lines += ["| case | verdict | seeds | message |", "|---|---|---|---|"]
        lines += [f"| {cell(r['key'])} | {r['verdict']} | {cell(number(r['seeds']))} | {cell(r['message'][:200])} |"
                  for r in claim.records]
        lines.append("")
    elif record["message"]:
        lines += [f"**{record['verdict']}:** {block(record['message'][:800])}", ""]
    if record["checks"]:
        lines += ["| check | observed | threshold | ok |", "|---|---|---|---|"]
        for check in record["checks"]:
            limit = f"{check['op']} {number(check['limit'])}"
            if check.get("limit_name"):
                limit += f" ({check['limit_name']})"
            lines.append(f"| {cell(check['name'])} | {cell(number(check['observed']))} | {cell(limit)} | "
                         f"{'yes' if check['ok'] else '**no**'} |")
        lines.append("")
    extras = scalar_observations(record)
    if extras:
        lines.append("Also measured: " + "; ".join(f"{cell(k)} = {cell(number(v))}" for k, v in extras.items()))
        lines.append("")
    columns, rows = observation_table(record)
    if rows and columns:
        lines += ["| measured | " + " | ".join(cell(c) for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
        lines += [f"| {cell(name)} | " + " | ".join(cell(v) for v in values) + " |" for name, values in rows]
        lines.append("")
    for index, plot in enumerate(record["plots"]):
        lines += [f"![{cell(plot['title'])}](figures/{figure_name(claim.id, index, plot['title'])})", ""]
    seeds = number(record["seeds"]) if record["seeds"] else "none"
    artifacts = ", ".join(f"{path} (md5 {str(md5)[:10]})" for path, md5 in record["artifacts"].items()) or "none"
    lines += [
        f"<sub>spec `{record['nodeid']}` · profile {record['profile']} · seeds {seeds} · "
        f"{record['duration_s']:.2f} s · artifacts: {block(artifacts)} · commit {git_line(record)} · "
        f"{record['timestamp']}</sub>",
        "",
    ]
    return lines


def lesson_page(lesson: Lesson) -> str:
    counts = lesson.counts()
    summary = ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n)
    lines = [f"# {block(lesson.title)}", "", f"Verdicts: {summary}.", "",
             "| claim | verdict | tightest check (closest to its threshold) |", "|---|---|---|"]
    for claim in lesson.claims:
        shown = key_check(claim.first["checks"])
        summary_text = check_line(shown) if shown else claim.first["message"][:120]
        lines.append(f"| {claim.id} | {VERDICT_BADGE[claim.verdict]} | {cell(summary_text)} |")
    lines.append("")
    for claim in lesson.claims:
        lines += claim_section(claim)
    first = lesson.claims[0].first
    versions = ", ".join(f"{name} {version}" for name, version in first["versions"].items())
    lines += ["## Provenance", "", f"- Hardware: {block(hardware_line(first))}",
              f"- Profile: {first['profile']}", f"- Versions: {block(versions)}", ""]
    return "\n".join(lines)
