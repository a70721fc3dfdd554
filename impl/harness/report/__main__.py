"""DVC stage `report`: `python -m impl.harness.report [--readme] [--if-stale] [--base REV]`.

Writes reports/index.html, reports/lessons/<lesson_folder>.md and reports/figures/*.png,
all from one report model (records + reports/history.jsonl + reports/runs.jsonl); records other machines'
checkouts brought in (`python -m impl.harness.report.merge`, reports/imported/) are shown beside this one's. `--base REV` adds
"what changed since REV": today's records against the latest verdicts recorded at that commit. DVC runs
it when a lesson's freshness marker or the renderer changed; `make report` runs it again with `--if-stale` when a
plain `pytest` run left verdicts newer than the page (the verdicts are not DVC deps: they differ by
machine, so the stage's lock could not be committed).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tqdm import tqdm

from impl import paths
from impl.atomic import atomic_write_bytes, atomic_write_text
from impl.harness import renames, results
from impl.harness.report import html, markdown, merge, readme
from impl.harness.report.context import build_context
from impl.harness.report.figures import render_png
from impl.harness.report.history import read_points
from impl.harness.report.hosts import Hosts
from impl.harness.report.model import build, load_history


def is_stale() -> bool:
    """Is the page missing, or older than a results file or the history?"""
    page = paths.REPORTS_DIR / "index.html"
    if not page.is_file():
        return True
    sources = [*paths.RESULTS_DIR.glob("*.json"), paths.HISTORY_FILE, paths.REPORTS_DIR / merge.IMPORTED]
    return any(source.is_file() and source.stat().st_mtime_ns > page.stat().st_mtime_ns for source in sources)


def resolve_commit(rev: str, root: Path) -> str:
    """The full hash git gives for `rev`; `rev` itself when git cannot resolve it (e.g. a hash whose
    commit is not in this clone: the history may still name it)."""
    if not isinstance(rev, str) or not rev.strip():
        raise ValueError(f"rev must name a git revision, got {rev!r}")
    try:
        found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=root,
                               capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return rev
    return found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else rev


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readme", action="store_true", help="also rewrite the README's generated tables")
    parser.add_argument("--if-stale", action="store_true",
                        help="do nothing when reports/index.html is newer than every verdict file")
    parser.add_argument("--base", metavar="REV",
                        help="also show what changed since git revision REV (its latest run in the history)")
    args = parser.parse_args(argv)
    if args.if_stale and not args.readme and not args.base and not is_stale():
        print("report: up to date with the verdicts", file=sys.stderr)
        return 0
    try:
        records = merge.load_view(results.load(), paths.REPORTS_DIR)
    except results.ResultsFileError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    if not records:
        print("report: no results yet; run `make test` or `dvc repro` first", file=sys.stderr)
        return 1
    summaries = results.load_runs(paths.REPORTS_DIR / paths.RUNS_FILE.name)
    renamed = renames.load(paths.ROOT)
    lessons = build(records, paths.ROOT, load_history(paths.HISTORY_FILE, renamed),
                    hosts=Hosts(records.values(), summaries))
    base = (resolve_commit(args.base, paths.ROOT), args.base) if args.base else None
    points = read_points(paths.HISTORY_FILE, renamed)
    if base is not None and (len(base[0]) < 4 or not any(p.commit.startswith(base[0]) for p in points)):
        print(f"report: no run in {paths.HISTORY_FILE} was recorded at {args.base} ({base[0][:10]})", file=sys.stderr)
        return 2
    context = build_context(lessons, records, paths.ROOT, points, summaries, base)
    figures_dir, lessons_dir = paths.REPORTS_DIR / "figures", paths.REPORTS_DIR / "lessons"
    for folder in (figures_dir, lessons_dir):
        folder.mkdir(parents=True, exist_ok=True)
    # Both folders hold generated files only: whatever this run does not rewrite is stale.
    for stale in [*figures_dir.glob("*.png"), *lessons_dir.glob("*.md")]:
        stale.unlink()
    for lesson in lessons:  # lesson pages of the old layout (reports/<folder>.md)
        (paths.REPORTS_DIR / f"{lesson.folder}.md").unlink(missing_ok=True)
    jobs = [figure for lesson in lessons for claim in lesson.claims for figure in claim.figures]
    figures = {}
    for figure in tqdm(jobs, desc="figures", unit="plot", disable=not jobs):
        figures[figure.file_name] = png = render_png(figure.spec)
        atomic_write_bytes(figures_dir / figure.file_name, png)
    for lesson in lessons:
        atomic_write_text(paths.REPORTS_DIR / lesson.page, markdown.lesson_page(lesson))
    extra = sorted(p.name for p in paths.REPORTS_DIR.glob("*.md"))  # e.g. the dataset cards
    atomic_write_text(paths.REPORTS_DIR / "index.html", html.index_page(lessons, figures, extra, context))
    if args.readme:
        readme_file = paths.ROOT / "README.md"
        text = readme_file.read_text(encoding="utf-8")
        text = readme.replace_section(text, "map", readme.lesson_map(paths.ROOT))
        text = readme.replace_section(text, "claims", readme.claims_table(lessons))
        atomic_write_text(readme_file, text)
    total = sum(len(lesson.claims) for lesson in lessons)
    print(f"report: {total} claims, {len(figures)} figures -> {paths.REPORTS_DIR / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
