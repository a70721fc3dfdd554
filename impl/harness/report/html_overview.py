"""The top of reports/index.html: the overview, what changed, and the filter bar. Escapes every string."""
from __future__ import annotations

from html import escape

from impl.harness.report.changes import Changes, VerdictChange
from impl.harness.report.context import ReportContext
from impl.harness.report.model import LessonView
from impl.harness.report.overview import Overview
from impl.harness.verdicts import VERDICTS

MOVES_SHOWN = 200  # rows of the "moved" table; the rest are counted


def css_class(verdict: str) -> str:
    return escape(verdict.replace(" ", "-"))


def _rows(header: list[str], rows: list[list[str]]) -> str:
    """A table of plain-text cells, escaped here."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _bar_row(bar) -> str:
    segments = "".join(f'<span class="{css_class(s.verdict)}" style="width:{escape(s.percent)}%" '
                       f'title="{s.count} {escape(s.verdict)}"></span>' for s in bar.segments)
    counts = ", ".join(f"{s.count} {s.verdict}" for s in bar.segments)
    return (f'<tr><td><a href="#{escape(bar.folder)}">{escape(bar.title)}</a></td>'
            f'<td><div class="bar" role="img" aria-label="{escape(counts)}">{segments}</div></td>'
            f"<td>{bar.total}</td><td>{escape(counts)}</td></tr>")


def headlines_block(overview: Overview) -> str:
    """The headline speed figures, each beside its anchor, linked to the claim that measured it."""
    if not overview.headlines:
        return ""
    def verdict(h) -> str:
        return f' <span class="{css_class(h.verdict)}">{escape(h.verdict)}</span>' if h.verdict else ""

    rows = "".join(
        f"<tr><td>{escape(h.figure)}</td><td><b>{escape(h.value)}</b></td><td>{escape(h.anchor)}</td>"
        f'<td><a href="#{escape(h.claim)}">{escape(h.claim)}</a>{verdict(h)}</td>'
        f"<td>{escape(h.run)}<br>{escape(h.host)}</td></tr>" for h in overview.headlines)
    return ('<h3 id="headlines">Headline speed figures</h3>'
            '<p class="meta">Benchmark figures, not assertions: each is read from the latest record of the claim '
            "beside it, measured by the performance protocol in that claim's run, next to what it is compared "
            "with.</p><table><tr><th>figure</th><th>here</th><th>beside</th><th>claim</th><th>run, host</th></tr>"
            f"{rows}</table>")


def overview_section(overview: Overview) -> str:
    total = sum(n for _, n in overview.totals)
    totals = "".join(f'<span class="{css_class(v)}">{n} {escape(v)}</span>' for v, n in overview.totals)
    bars = "".join(_bar_row(bar) for bar in overview.bars)
    notes = "".join(f"<p class=\"meta\">{escape(note)}</p>" for note in overview.notes)
    return ('<section id="overview"><h2>Overview</h2>'
            f'<p class="totals"><b>{total} claims:</b> {totals}</p>'
            '<table class="bars"><tr><th>lesson</th><th>verdicts</th><th>claims</th><th>counts</th></tr>'
            f"{bars}</table>" + headlines_block(overview)
            + '<div class="grid"><div><h3>Latest run</h3>'
            + _rows(["fact", "value"], [list(row) for row in overview.run]) + notes
            + '</div><div><h3 id="environment">Environment</h3>'
            + _rows(["field", "value", "read from"], [list(row) for row in overview.environment])
            + "</div></div></section>")


def _change_list(title: str, changes: list[VerdictChange]) -> str:
    if not changes:
        return ""
    items = "".join(f'<li><a href="#{escape(c.id)}">{escape(c.key)}</a>: {escape(c.old)} &rarr; {escape(c.new)}</li>'
                    for c in changes)
    return f"<h4>{escape(title)} ({len(changes)})</h4><ul>{items}</ul>"


def changes_block(changes: Changes) -> str:
    parts = [f"<h3>What changed {escape(changes.title)}</h3>",
             f'<p class="meta">old: {escape(changes.old_label)} · new: {escape(changes.new_label)} · '
             f"{changes.compared} record(s) compared, {len(changes.new_keys)} without an earlier verdict</p>"]
    if changes.note:
        parts.append(f"<p>{escape(changes.note)}</p>")
    elif changes.empty:
        parts.append("<p>No verdict flipped and no checked value moved beyond the noise rule.</p>")
    parts += [_change_list("newly refuted (or error)", changes.newly_refuted),
              _change_list("newly holding", changes.newly_holding),
              _change_list("other verdict flips", changes.flipped)]
    if changes.moved:
        rows = [[m.key, m.check, m.old, m.new, m.change] for m in changes.moved[:MOVES_SHOWN]]
        parts += [f"<h4>moved beyond the noise rule ({len(changes.moved)})</h4>",
                  _rows(["record", "check", "old", "new", "change"], rows)]
        if len(changes.moved) > MOVES_SHOWN:
            parts.append(f"<p>... and {len(changes.moved) - MOVES_SHOWN} more.</p>")
    return "".join(parts)


def changes_section(context: ReportContext) -> str:
    blocks = "".join(changes_block(changes) for changes in context.changes)
    hint = "" if len(context.changes) > 1 else (
        '<p class="meta">To compare with a git revision: <code>python -m impl.harness.report --base &lt;rev&gt;</code>'
        " (the latest verdicts recorded at that commit in reports/history.jsonl).</p>")
    return (f'<section id="changes"><h2>What changed</h2><p class="meta">Noise rule: {escape(context.noise_rule)}. '
            f"Beside each claim, a {escape(context.tightest_rule)}.</p>{blocks}{hint}</section>")


def _select(name: str, label: str, options: list[tuple[str, str]]) -> str:
    items = "".join(f'<option value="{escape(value)}">{escape(text)}</option>' for value, text in options)
    return (f'<label for="f-{name}" hidden>{escape(label)}</label>'
            f'<select id="f-{name}"><option value="">{escape(label)}: all</option>{items}</select>')


def filter_bar(lessons: list[LessonView], context: ReportContext) -> str:
    markers = sorted({m for evidence in context.claims.values() for m in evidence.markers})
    flags = sorted({c.flag for lesson in lessons for c in lesson.claims if c.flag},
                   key=lambda f: (len(f), f))
    changes = ["newly refuted", "newly holding", "flipped", "moved"]
    return ('<form id="filters" role="search">'
            + _select("lesson", "lesson", [(lesson.folder, lesson.folder) for lesson in lessons])
            + _select("verdict", "verdict", [(v, v) for v in VERDICTS])
            + _select("marker", "marker", [(m, m) for m in markers])
            + _select("flag", "flag", [("any", "any flag")] + [(f.lower(), f) for f in flags])
            + _select("change", "change", [("any", "any change")] + [(c, c) for c in changes])
            + '<label for="f-text" hidden>text</label>'
              '<input id="f-text" type="search" placeholder="search ids, statements, checks" autocomplete="off">'
              '<span id="f-count" class="meta" aria-live="polite"></span></form>')
