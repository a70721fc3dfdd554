"""reports/index.html: every lesson and claim of the report model on one self-contained page.

Plots are embedded as data URIs and the style is inline, so opening the file makes no
network request of any kind. Every fact comes from `model`; every string is escaped here.
"""
from __future__ import annotations

import base64
from html import escape

from impl.harness.report.model import CORRECTIONS_HEADER, ClaimView, Figure, LessonView
from impl.harness.verdicts import BADGES, VERDICTS

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;font-size:.9em;vertical-align:top}
.v{font-weight:600;padding:0 .4em;border-radius:3px}.holds{background:#d4f4d4}.refuted{background:#f8caca}
.error{background:#f4a0a0}.not-run{background:#e6e6e6}.known-refuted{background:#f6e3b4}
blockquote{margin:.5em 0;padding:.3em 1em;border-left:4px solid #99b;background:#f6f6fb;white-space:pre-wrap}
.meta{color:#666;font-size:.8em}img{max-width:100%}section.claim{border-top:1px solid #ddd;margin-top:1.2em}
figure{margin:.5em 0}figcaption{color:#666;font-size:.8em}
"""


def badge(verdict: str) -> str:
    return f'<span class="v {escape(verdict.replace(" ", "-"))}">{escape(BADGES[verdict])}</span>'


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A table of plain-text cells, escaped here."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(figure: Figure, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    path = f"figures/{figure.file_name}"
    return (f'<figure><img alt="{escape(figure.title)}" src="data:image/png;base64,{data}">'
            f'<figcaption>{escape(figure.title)} · <a href="{escape(path)}">{escape(path)}</a></figcaption></figure>')


def _meta(claim: ClaimView) -> str:
    artifacts = ", ".join(f"{a.path} (md5 {a.md5_short})" for a in claim.artifacts) or "none"
    return (f'<p class="meta">spec <code>{escape(claim.nodeid)}</code> · profile {escape(claim.profile)} · '
            f"seeds {escape(claim.seeds)} · {escape(claim.duration)} · artifacts: {escape(artifacts)} · "
            f"commit {escape(claim.commit)} · {escape(claim.timestamp)}</p>")


def claim_section(claim: ClaimView, figures: dict[str, bytes]) -> str:
    parts = [f'<section class="claim" id="{escape(claim.id)}"><h3>{escape(claim.id)} {badge(claim.verdict)}</h3>',
             f"<blockquote>{escape(claim.statement)}</blockquote>"]
    if claim.history_line:
        parts.append(f"<p><i>history:</i> {escape(claim.history_line)}</p>")
    if claim.runs:
        parts.append(f"<p><b>Runs:</b> {len(claim.runs)} cases, {claim.held}/{claim.ran} hold.</p>")
        parts.append(_table(["case", "verdict", "seeds", "message"],
                            [[run.key, run.verdict, run.seeds, run.message] for run in claim.runs]))
    elif claim.message:
        parts.append(f"<p><b>{escape(claim.verdict)}:</b> {escape(claim.message)}</p>")
    if claim.checks:
        parts.append(_table(["check", "observed", "threshold", "ok"],
                            [[c.name, c.observed, c.threshold, "yes" if c.ok else "NO"] for c in claim.checks]))
    if claim.extras:
        parts.append("<p>Also measured: " + escape("; ".join(f"{name} = {value}" for name, value in claim.extras))
                     + "</p>")
    if claim.table_rows and claim.table_columns:
        parts.append(_table(["measured", *claim.table_columns], [[name, *values] for name, values in claim.table_rows]))
    parts += [_figure(figure, figures[figure.file_name]) for figure in claim.figures]
    parts.append(_meta(claim) + "</section>")
    return "\n".join(parts)


def lesson_section(lesson: LessonView, figures: dict[str, bytes]) -> str:
    versions = ", ".join(f"{name} {version}" for name, version in lesson.versions)
    parts = [f'<h2 id="{escape(lesson.folder)}">{escape(lesson.title)}</h2>']
    parts += [f"<p>{escape(paragraph)}</p>" for paragraph in lesson.introduction.split("\n\n") if paragraph.strip()]
    parts += [f"<p>Verdicts: {escape(lesson.counts_line)}. Page: "
             f'<a href="{escape(lesson.page)}">{escape(lesson.page)}</a></p>',
             _table(["claim", "verdict", "tightest check (closest to its threshold)"],
                    [[claim.id, claim.badge, claim.summary] for claim in lesson.claims])]
    if lesson.corrections:
        parts += ["<h4>Corrections: what the sources say and what holds</h4>",
                  _table(CORRECTIONS_HEADER, [pair.row for pair in lesson.corrections])]
    if lesson.stages:
        parts += ["<h4>Stages</h4>", _table(["stage", "headline figures (data/metrics)", "wall s", "CPU that built its outputs"], lesson.stages)]
    parts += [claim_section(claim, figures) for claim in lesson.claims]
    provenance = [f"Hardware: {line}" for line in lesson.hardware]
    provenance += [f"Profile: {', '.join(lesson.profiles)}", f"Versions: {versions}"]
    parts.append("<h4>Provenance</h4><ul>" + "".join(f"<li>{escape(p)}</li>" for p in provenance) + "</ul>")
    return "\n".join(parts)


def index_page(lessons: list[LessonView], figures: dict[str, bytes], extra_pages: list[str]) -> str:
    """`figures` maps each figure's file name to its PNG bytes; `extra_pages` are other generated pages."""
    rows = "".join(f'<tr><td><a href="#{escape(lesson.folder)}">{escape(lesson.title)}</a></td>'
                   + "".join(f"<td>{count}</td>" for count in lesson.counts().values()) + "</tr>"
                   for lesson in lessons)
    head = "".join(f"<th>{escape(v)}</th>" for v in VERDICTS)
    body = ["<h1>Course claims: verdicts</h1>", f"<table><tr><th>lesson</th>{head}</tr>{rows}</table>"]
    if extra_pages:
        body.append("<p>Also generated: " + ", ".join(f'<a href="{escape(p)}">{escape(p)}</a>' for p in extra_pages)
                    + "</p>")
    body += [lesson_section(lesson, figures) for lesson in lessons]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Course claims</title>'
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")
