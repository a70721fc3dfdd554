"""reports/index.html: every lesson and claim on one self-contained page.

Plots are embedded as data URIs and the style is inline, so opening the file makes
no network request of any kind. Every string from a record is escaped.
"""
from __future__ import annotations

import base64
from html import escape

from impl.harness.report.model import ClaimResult, Lesson
from impl.harness.report.text import (
    VERDICT_BADGE, check_line, git_line, hardware_line, number, observation_table, scalar_observations,
)

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;font-size:.9em;vertical-align:top}
.v{font-weight:600;padding:0 .4em;border-radius:3px}.holds{background:#d4f4d4}.refuted{background:#f8caca}
.error{background:#f4a0a0}.not-run{background:#e6e6e6}.known-refuted{background:#f6e3b4}
blockquote{margin:.5em 0;padding:.3em 1em;border-left:4px solid #99b;background:#f6f6fb;white-space:pre-wrap}
.meta{color:#666;font-size:.8em}img{max-width:100%}section.claim{border-top:1px solid #ddd;margin-top:1.2em}
"""


def badge(verdict: str) -> str:
    return f'<span class="v {verdict.replace(" ", "-")}">{escape(VERDICT_BADGE[verdict])}</span>'


def _claim(claim: ClaimResult, figures: dict[tuple[str, int], bytes]) -> str:
    record = claim.first
    parts = [f'<section class="claim" id="{escape(claim.id)}"><h3>{escape(claim.id)} {badge(claim.verdict)}</h3>',
             f"<blockquote>{escape(claim.statement)}</blockquote>"]
    if len(claim.records) > 1:
        held, ran = claim.pass_fraction
        rows = "".join(f"<tr><td>{escape(r['key'])}</td><td>{badge(r['verdict'])}</td>"
                       f"<td>{escape(number(r['seeds']))}</td><td>{escape(r['message'][:200])}</td></tr>"
                       for r in claim.records)
        parts.append(f"<p>{len(claim.records)} cases, {held}/{ran} hold.</p><table>{rows}</table>")
    elif record["message"]:
        parts.append(f"<p><b>{escape(record['verdict'])}:</b> {escape(record['message'][:800])}</p>")
    if record["checks"]:
        parts.append("<ul>" + "".join(f"<li>{escape(check_line(c))}</li>" for c in record["checks"]) + "</ul>")
    extras = scalar_observations(record)
    if extras:
        parts.append("<p>Also measured: " + escape("; ".join(f"{k} = {number(v)}" for k, v in extras.items()))
                     + "</p>")
    columns, rows = observation_table(record)
    if rows and columns:
        head = "".join(f"<th>{escape(c)}</th>" for c in columns)
        body = "".join(f"<tr><td>{escape(name)}</td>" + "".join(f"<td>{escape(v)}</td>" for v in values) + "</tr>"
                       for name, values in rows)
        parts.append(f"<table><tr><th>measured</th>{head}</tr>{body}</table>")
    for index, plot in enumerate(record["plots"]):
        data = base64.b64encode(figures[(claim.id, index)]).decode("ascii")
        parts.append(f'<img alt="{escape(plot["title"])}" src="data:image/png;base64,{data}">')
    seeds = number(record["seeds"]) if record["seeds"] else "none"
    parts.append(f'<p class="meta">{escape(record["nodeid"])} · profile {escape(record["profile"])} · seeds '
                 f"{escape(seeds)} · {record['duration_s']:.2f} s · commit {escape(git_line(record))} · "
                 f"{escape(record['timestamp'])}</p></section>")
    return "\n".join(parts)


def index_page(lessons: list[Lesson], figures: dict[tuple[str, int], bytes], extra_pages: list[str]) -> str:
    rows = []
    for lesson in lessons:
        counts = lesson.counts()
        cells = "".join(f"<td>{counts[v]}</td>" for v in VERDICT_BADGE)
        rows.append(f'<tr><td><a href="#{escape(lesson.folder)}">{escape(lesson.title)}</a></td>{cells}</tr>')
    head = "".join(f"<th>{escape(v)}</th>" for v in VERDICT_BADGE)
    body = ["<h1>Course claims: verdicts</h1>",
            f"<table><tr><th>lesson</th>{head}</tr>{''.join(rows)}</table>"]
    if extra_pages:
        body.append("<p>Also generated: " + ", ".join(f'<a href="{escape(p)}">{escape(p)}</a>' for p in extra_pages)
                    + "</p>")
    if lessons:
        first = lessons[0].claims[0].first
        body.append(f'<p class="meta">Hardware: {escape(hardware_line(first))}. Profile: '
                    f"{escape(first['profile'])}.</p>")
    for lesson in lessons:
        body.append(f'<h2 id="{escape(lesson.folder)}">{escape(lesson.title)}</h2>')
        body += [_claim(claim, figures) for claim in lesson.claims]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Course claims</title>'
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")
