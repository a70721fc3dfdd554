"""DVC stage `report`: `python -m impl.harness.report [--readme]`."""
from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from impl import paths
from impl.atomic import atomic_write_bytes, atomic_write_text
from impl.harness import results
from impl.harness.report import html, markdown, readme
from impl.harness.report.figures import render_png
from impl.harness.report.model import group


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readme", action="store_true", help="also rewrite the README's generated tables")
    args = parser.parse_args(argv)
    records = results.load()
    if not records:
        print(f"report: no results in {paths.RESULTS_FILE}; run `pytest` or `dvc repro verify` first",
              file=sys.stderr)
        return 1
    lessons = group(records, paths.ROOT)
    figures_dir = paths.REPORTS_DIR / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    for stale in figures_dir.glob("*.png"):
        stale.unlink()
    jobs = [(claim, i, plot) for lesson in lessons for claim in lesson.claims
            for i, plot in enumerate(claim.first["plots"])]
    figures = {}
    for claim, index, plot in tqdm(jobs, desc="figures", unit="plot", disable=not jobs):
        figures[(claim.id, index)] = png = render_png(plot)
        atomic_write_bytes(figures_dir / markdown.figure_name(claim.id, index, plot["title"]), png)
    generated = {f"{lesson.folder}.md" for lesson in lessons}
    for lesson in lessons:
        atomic_write_text(paths.REPORTS_DIR / f"{lesson.folder}.md", markdown.lesson_page(lesson))
    extra = sorted(p.name for p in paths.REPORTS_DIR.glob("*.md") if p.name not in generated)
    atomic_write_text(paths.REPORTS_DIR / "index.html", html.index_page(lessons, figures, extra))
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
