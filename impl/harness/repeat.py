"""Run a set of claims several times and tabulate their verdicts: is each verdict reproducible?

`python -m impl.harness.repeat --runs 5 -- -m perf` runs `pytest -m perf` five times, serially, each
run writing its records to a folder of its own (the project's reports/ untouched), then prints one
Markdown row per claim: the verdict of every run, how many runs judged it (holds or refuted), and the
observed value of its tightest check in each run. The performance protocol's acceptance reads off it:
no refuted verdict, and each claim judged in at least 4 of 5 runs.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from impl import paths
from impl.harness import results

JUDGED = ("holds", "refuted", "known refuted")


def tightest(record: dict[str, Any]) -> str:
    """The check closest to (or furthest past) its limit, as `name=observed`; '' when it has none."""
    best, best_margin = None, None
    for check in record.get("checks", []):
        observed, limit = check.get("observed"), check.get("limit")
        if not isinstance(observed, (int, float)) or not isinstance(limit, (int, float)) or isinstance(observed, bool):
            continue
        margin = abs(observed - limit) / (abs(limit) or 1.0)
        if best_margin is None or margin < best_margin:
            best, best_margin = check, margin
    return "" if best is None else f"{best['name']}={best['observed']:.3g}"


def table(runs: list[dict[str, dict[str, Any]]]) -> str:
    """Markdown: claim | run 1 .. run N | judged | tightest check per run."""
    keys = sorted({key for run in runs for key in run})
    head = ["claim", *[f"run {i + 1}" for i in range(len(runs))], "judged", "tightest check per run"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in keys:
        verdicts = [run.get(key, {}).get("verdict", "-") for run in runs]
        judged = sum(v in JUDGED for v in verdicts)
        checks = ", ".join(tightest(run[key]) or "-" for run in runs if key in run)
        lines.append("| " + " | ".join([key, *verdicts, f"{judged}/{len(runs)}", checks]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="how many runs (default 5)")
    parser.add_argument("--out", type=Path, default=None, help="write the table here as well")
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments after --, e.g. -- -m perf")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 50:
        parser.error(f"--runs must be between 1 and 50, got {args.runs}")
    runs = []
    with tempfile.TemporaryDirectory(prefix="claims-repeat-") as tmp:
        for index in range(args.runs):
            folder = Path(tmp) / f"run{index + 1}" / "results"
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                                   f"--claim-results={folder}", *args.pytest_args], cwd=paths.ROOT)
            if done.returncode not in (0, 1):
                print(f"run {index + 1}: pytest exited {done.returncode}", file=sys.stderr)
                return done.returncode
            runs.append(results.load(folder))
    text = table(runs)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if all(r.get("verdict") != "refuted" for run in runs for r in run.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
