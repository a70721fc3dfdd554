"""The claims and their last verdicts in a terminal: `python -m impl.harness.cli` (or `make claims ARGS="..."`).

Reads what the last runs left under reports/ (results/<lesson>.json, history.jsonl, runs.jsonl) and
specs/<lesson>/claims.yaml, through the same report model as reports/index.html; runs nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from impl import paths
from impl.harness.cli.catalogue import Catalogue, UnknownClaim, UnknownFilter, load_catalogue
from impl.harness.cli.explain import FAILING_VERDICTS, expect_line, failed_checks, next_steps
from impl.harness.report.model import ClaimView
from impl.harness.report.text import number

STYLES = {"error": "bold white on red", "refuted": "bold red", "known refuted": "yellow", "not run": "dim",
          "holds": "green"}
EXIT_NO_VERDICTS, EXIT_UNKNOWN = 1, 2

app = typer.Typer(
    name="claims", help=__doc__, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _verdict(verdict: str) -> Text:
    return Text(verdict, style=STYLES[verdict])


def _console() -> Console:
    """Standard output, with no markup read from the data: ids like L1.x.p[a] and messages print as they are."""
    return Console(markup=False, highlight=False)


def _reflow(text: str) -> str:
    """A docstring's paragraphs, each on one line (the terminal wraps them at its own width)."""
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in text.split("\n\n") if paragraph.strip())


def _fail(message: str, code: int) -> NoReturn:
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


REPORTS_HELP = "Folder of the runs' records: results/, history.jsonl, runs.jsonl."
ROOT_HELP = "Project root whose specs/ give the thresholds' reasons and the spec lines."


@app.callback()
def main(ctx: typer.Context,
         reports: Annotated[Path, typer.Option(metavar="DIR", help=REPORTS_HELP, file_okay=False)] = paths.REPORTS_DIR,
         root: Annotated[Path, typer.Option(metavar="DIR", help=ROOT_HELP, file_okay=False)] = paths.ROOT) -> None:
    """The claims and their last verdicts, from reports/ (run `make test` first)."""
    ctx.obj = (reports, root)


def _catalogue(ctx: typer.Context) -> Catalogue:
    reports, root = ctx.obj
    try:
        catalogue = load_catalogue(reports, root)
    except (OSError, ValueError) as exc:
        _fail(str(exc), EXIT_NO_VERDICTS)
    if not catalogue.records:
        _fail(f"no verdicts under {reports / paths.RESULTS_DIR.name}: run `make test` (or `make report`) first",
              EXIT_NO_VERDICTS)
    return catalogue


def _find(catalogue: Catalogue, claim_id: str) -> ClaimView:
    try:
        return catalogue.find(claim_id)
    except UnknownClaim as exc:
        _fail(str(exc), EXIT_UNKNOWN)


@app.command("list", short_help="Claims with their last verdicts; filter by lesson, verdict, marker, text.")
def list_claims(
    ctx: typer.Context,
    text: Annotated[Optional[str], typer.Argument(metavar="TEXT", help="Free text to find in ids, statements, checks and "
                                                       "messages (any case).")] = None,
    lesson: Annotated[list[str], typer.Option("--lesson", "-l", metavar="LESSON", help="Lesson folder or short name "
                                              "(l1_linalg, L1); repeat for several.")] = [],
    verdict: Annotated[list[str], typer.Option("--verdict", "-v", metavar="VERDICT", help="error, refuted, known-refuted, "
                                               "not-run or holds; repeat for several.")] = [],
    marker: Annotated[list[str], typer.Option("--marker", "-m", metavar="MARKER", help="A marker such as cpu, gpu, perf, slow; "
                                              "repeat for several.")] = [],
) -> None:
    """Every claim with its last verdict and tightest check, in course order; filters narrow the list.

    Examples: `list --verdict refuted`, `list -l L4 -m perf`, `list svd`.
    """
    catalogue = _catalogue(ctx)
    try:
        claims = catalogue.select(lesson, verdict, marker, text or "")
    except UnknownFilter as exc:
        _fail(str(exc), EXIT_UNKNOWN)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("claim", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("markers")
    table.add_column("tightest check (or why)", overflow="fold")
    for claim in claims:
        table.add_row(claim.id, _verdict(claim.verdict), " ".join(catalogue.evidence(claim).markers), claim.summary)
    console = _console()
    if claims:
        console.print(table)
    console.print(f"{len(claims)} of {len(catalogue.claims)} claims", highlight=False)


@app.command(short_help="One claim: checks, thresholds' reasons, history across runs.")
def show(ctx: typer.Context,
         claim_id: Annotated[str, typer.Argument(metavar="CLAIM_ID", help="e.g. L1.svd.eckart_young")]) -> None:
    """One claim: its statement, verdict, checks (observed, op, threshold), the thresholds' reasons from
    specs/<lesson>/claims.yaml, its cases and its verdicts across recent runs."""
    catalogue = _catalogue(ctx)
    claim = _find(catalogue, claim_id)
    evidence, records, console = catalogue.evidence(claim), catalogue.records_of(claim), _console()
    where = f"{evidence.spec_file}:{evidence.spec_line}" if evidence.spec_line else evidence.spec_file
    meta = (f"spec {where} · markers {' '.join(evidence.markers) or 'none'}" + (f" · flag {claim.flag}" if claim.flag
            else "") + f" · profile {claim.profile} · commit {claim.commit} · {claim.timestamp}")
    body = Text.assemble((catalogue.lesson_of(claim).title, "italic"), "\n", (meta, "dim"), "\n\n", _reflow(claim.statement))
    title = Text.assemble((claim.id, "bold"), "  ", _verdict(claim.verdict))
    console.print(Panel(body, title=title, title_align="left", box=box.ROUNDED))
    if claim.message:
        console.print(Text.assemble((f"{claim.verdict}: ", STYLES[claim.verdict]), claim.message))
    title = f"Checks of {records[0]['key']}" if len(records) > 1 else "Checks"
    checks = Table("check", "observed", "op", "threshold", "ok", title=title, title_justify="left",
                   box=box.SIMPLE_HEAD)
    for check in records[0]["checks"]:  # the page's checks too: the claim's first record
        threshold = number(check["limit"]) + (f" ({check['limit_name']})" if check.get("limit_name") else "")
        checks.add_row(str(check["name"]), number(check["observed"]), check["op"], threshold,
                       Text("yes", "green") if check["ok"] else Text("NO", "bold red"))
    console.print(checks if records[0]["checks"] else "No checks recorded.")
    if evidence.thresholds:
        reasons = Table("threshold", "value", "why (claims.yaml)", title="Thresholds", title_justify="left",
                        box=box.SIMPLE_HEAD)
        for row in evidence.thresholds:
            reasons.add_row(*row)
        console.print(reasons)
    if claim.runs:
        cases = Table("case", "verdict", "seeds", "message", title=f"Cases: {claim.held}/{claim.ran} hold",
                      title_justify="left", box=box.SIMPLE_HEAD)
        for run in claim.runs:
            cases.add_row(run.key, _verdict(run.verdict), run.seeds, run.message)
        console.print(cases)
    if evidence.history:
        value = evidence.trend.check if evidence.trend else "tightest check"
        runs = Table("run", "commit", "verdict", value, title=f"Recent runs of {evidence.key}",
                     title_justify="left", box=box.SIMPLE_HEAD)
        for row in evidence.history:
            runs.add_row(row.run, row.commit, _verdict(row.verdict), row.value)
        console.print(runs)
    else:
        console.print("No earlier run in the history.")
    if claim.history_line:
        console.print(f"Flips: {claim.history_line}", highlight=False)


@app.command(short_help="Why a claim is refuted, not run or an error, and what to do next.")
def explain(ctx: typer.Context,
            claim_id: Annotated[str, typer.Argument(metavar="CLAIM_ID", help="e.g. L1.svd.eckart_young")]) -> None:
    """Why a claim is refuted, known refuted, not run or an error, on one screen: the failing check and by
    how much it missed, the threshold's reason, the spec line that asserted it, and what to do next."""
    catalogue = _catalogue(ctx)
    claim = _find(catalogue, claim_id)
    evidence, records, lesson = catalogue.evidence(claim), catalogue.records_of(claim), catalogue.lesson_of(claim)
    lines = [Text.assemble((claim.id, "bold"), "  ", _verdict(claim.verdict), f"  {claim.gist}")]
    failing = [r for r in records if r["verdict"] == claim.verdict]
    if len(records) > 1:
        lines.append(Text(f"{len(failing)} of {len(records)} cases {claim.verdict}: "
                          + ", ".join(r["key"] for r in failing)))
    failed = [f for f in failed_checks(failing) if claim.verdict != "known refuted" or f.expected]
    reasons = {name: reason for name, _, reason in evidence.thresholds}
    for check in failed:
        case = f" [{check.key}]" if len(records) > 1 else ""
        lines.append(Text.assemble(("failed check", "bold"), f"{case}: {check.name} = {check.observed}, "
                                   f"needs {check.op} {check.limit}: {check.miss}"))
        if check.limit_name:
            lines.append(Text(f"  why {check.limit_name}: {reasons.get(check.limit_name, 'no reason in claims.yaml')}"))
    if claim.verdict in FAILING_VERDICTS or claim.verdict == "not run":
        messages = list(dict.fromkeys(r["message"] for r in failing if r["message"]))
        label = "reason" if claim.verdict == "not run" else "message"
        lines += [Text.assemble((f"{label}: ", "bold"), message) for message in messages[:3]]
    spec_file, line, source = expect_line(catalogue.root, failing[0]["nodeid"] if failing else claim.nodeid,
                                          failed[0].name if failed else None)
    lines.append(Text.assemble(("spec: ", "bold"), f"{spec_file}:{line}" if line else f"{spec_file} (line not found)",
                               (f"  {source}" if source else "", "cyan")))
    if claim.history_line:
        lines.append(Text(f"recent runs: {claim.history_line}"))
    elif claim.verdict == "holds":
        lines.append(Text(f"tightest check: {claim.summary}"))
    partners = [c.id for pair in lesson.corrections if claim in pair.as_stated for c in pair.measured]
    first = failing[0] if failing else records[0]
    steps = next_steps(claim.verdict, first["nodeid"], evidence.markers, lesson.folder,
                       seeded=any(r.get("seeds") for r in records), message=first.get("message", ""),
                       check=failed[0].name if failed else "", partners=partners)
    lines.append(Text("next:", "bold"))
    todo = Table.grid(padding=(0, 1))
    todo.add_column(justify="right", no_wrap=True)
    todo.add_column()
    for i, step in enumerate(steps, 1):
        todo.add_row(f"{i}.", step)
    body = Group(Text("\n").join(lines), todo)
    _console().print(Panel(body, title=f"explain {claim.id}", title_align="left", box=box.ROUNDED))
