"""reports/index.html: every lesson and claim of the report model on one self-contained page.

Plots are embedded as data URIs and the style is inline, so opening the file makes no
network request of any kind. Every fact comes from `model`; every string is escaped here.
"""
from __future__ import annotations

import base64
from html import escape

from impl.harness.report.assets import CONTENT_SECURITY_POLICY, SCRIPT, STYLE
from impl.harness.report.context import ClaimEvidence, ReportContext
from impl.harness.report.html_overview import changes_section, css_class, filter_bar, overview_section
from impl.harness.report.model import CORRECTIONS_HEADER, HOSTS_HEADER, ClaimView, Figure, LessonView, host_rows
from impl.harness.report.trend import sparkline
from impl.harness.verdicts import BADGES, VERDICTS



def badge(verdict: str) -> str:
    return f'<span class="v {css_class(verdict)}">{escape(BADGES[verdict])}</span>'


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
            f"commit {escape(claim.commit)} · {escape(claim.timestamp)}{escape(claim.formerly_line)}</p>")


def _evidence(claim: ClaimView, evidence: ClaimEvidence) -> str:
    """The spec's source line, thresholds with their reasons, and the claim's recent runs."""
    line = f":{evidence.spec_line}" if evidence.spec_line else " (line not found)"
    where = evidence.spec_file + line
    parts = [f'<details class="evidence"><summary>Evidence</summary><p>spec: <a href="../{escape(evidence.spec_file)}">'
             f"<code>{escape(where)}</code></a> (<code>{escape(claim.nodeid)}</code>)</p>"]
    if evidence.thresholds:
        parts.append(_table(["threshold", "value", "why (claims.yaml)"], [list(row) for row in evidence.thresholds]))
    if claim.artifacts:
        parts.append(_table(["artifact used", "md5"], [[a.path, a.md5_short] for a in claim.artifacts]))
    if evidence.history:
        check = evidence.trend.check if evidence.trend else ""
        parts.append(f"<p>Recent runs of <code>{escape(evidence.key)}</code>:</p>")
        parts.append(_table(["run", "commit", "verdict", check or "tightest check"],
                            [[h.run, h.commit, h.verdict, h.value] for h in evidence.history]))
    return "".join(parts) + "</details>"


def claim_section(claim: ClaimView, figures: dict[str, bytes], evidence: ClaimEvidence | None = None,
                  lesson_folder: str = "") -> str:
    """One claim; with `evidence`, also its filter attributes, change mark, trend and evidence block."""
    attributes = ""
    heading = (f'<a class="anchor" href="#{escape(claim.id)}" aria-label="link to this claim">#</a>'
               f"{escape(claim.id)} {badge(claim.verdict)}")
    if evidence is not None:
        attributes = (f' data-lesson="{escape(lesson_folder)}" data-verdict="{escape(claim.verdict)}" '
                      f'data-markers="{escape(" ".join(evidence.markers))}" data-flag="{escape(claim.flag or "")}" '
                      f'data-change="{escape(evidence.change)}"')
        if evidence.change:
            heading += f' <span class="chg {css_class(evidence.change)}">{escape(evidence.change)}</span>'
        if evidence.trend:
            heading += sparkline(evidence.trend)
    parts = [f'<section class="claim" id="{escape(claim.id)}"{attributes}><h3>{heading}</h3>',
             f"<blockquote>{escape(claim.statement)}</blockquote>"]
    if claim.hosts:
        parts.append(f'<p><b>On {len(claim.hosts)} hosts</b> (details below from the first):</p>')
        parts.append(_table(HOSTS_HEADER, [list(row) for row in host_rows(claim)]))
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
    if evidence is not None:
        parts.append(_evidence(claim, evidence))
    parts.append(_meta(claim) + "</section>")
    return "\n".join(parts)


def lesson_section(lesson: LessonView, figures: dict[str, bytes], context: ReportContext | None = None) -> str:
    versions = ", ".join(f"{name} {version}" for name, version in lesson.versions)
    parts = [f'<section class="lesson" id="{escape(lesson.folder)}"><h2>{escape(lesson.title)}</h2>']
    parts += [f"<p>{escape(paragraph)}</p>" for paragraph in lesson.introduction.split("\n\n") if paragraph.strip()]
    parts += [f"<p>Verdicts: {escape(lesson.counts_line)}. Page: "
              f'<a href="{escape(lesson.page)}">{escape(lesson.page)}</a></p>',
              _table(["claim", "verdict", "tightest check (closest to its threshold)"],
                     [[claim.id, claim.badge, claim.summary] for claim in lesson.claims])]
    if lesson.corrections:
        parts += ["<h4>Corrections: what the sources say and what holds</h4>",
                  _table(CORRECTIONS_HEADER, [pair.row for pair in lesson.corrections])]
    if lesson.stages:
        parts += ["<h4>Stages</h4>", _table(["stage", "headline figures (data/metrics)", "wall s",
                                             "CPU that built its outputs"], lesson.stages)]
    evidence = context.claims if context is not None else {}
    parts += [claim_section(claim, figures, evidence.get(claim.id), lesson.folder) for claim in lesson.claims]
    provenance = [f"Hardware: {line}" for line in lesson.hardware]
    provenance += [f"Profile: {', '.join(lesson.profiles)}", f"Versions: {versions}"]
    parts.append("<h4>Provenance</h4><ul>" + "".join(f"<li>{escape(p)}</li>" for p in provenance) + "</ul></section>")
    return "\n".join(parts)


def _verdict_table(lessons: list[LessonView]) -> str:
    rows = "".join(f'<tr><td><a href="#{escape(lesson.folder)}">{escape(lesson.title)}</a></td>'
                   + "".join(f"<td>{count}</td>" for count in lesson.counts().values()) + "</tr>"
                   for lesson in lessons)
    head = "".join(f"<th>{escape(v)}</th>" for v in VERDICTS)
    return f"<table><tr><th>lesson</th>{head}</tr>{rows}</table>"


def index_page(lessons: list[LessonView], figures: dict[str, bytes], extra_pages: list[str],
               context: ReportContext | None = None) -> str:
    """`figures` maps each figure's file name to its PNG bytes; `extra_pages` are other generated pages;
    `context` adds the overview, what changed, the filters and each claim's evidence (see `context`)."""
    if not isinstance(lessons, list) or not isinstance(figures, dict) or not isinstance(extra_pages, list):
        raise TypeError("index_page takes a list of lessons, a dict of figures and a list of page names")
    if context is not None and not isinstance(context, ReportContext):
        raise TypeError(f"context must be a ReportContext, got {type(context).__name__}")
    body = ["<h1>Course claims: verdicts</h1>"]
    if context is not None:
        body += [overview_section(context.overview), changes_section(context), filter_bar(lessons, context)]
    else:
        body.append(_verdict_table(lessons))
    if extra_pages:
        body.append("<p>Also generated: " + ", ".join(f'<a href="{escape(p)}">{escape(p)}</a>' for p in extra_pages)
                    + "</p>")
    body += [lesson_section(lesson, figures, context) for lesson in lessons]
    script = f"<script>{SCRIPT}</script>" if context is not None else ""
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{escape(CONTENT_SECURITY_POLICY)}">'
            f"<title>Course claims</title><style>{STYLE}</style></head><body>{''.join(body)}{script}</body></html>\n")
