"""The suite once more with the instruction sets capped to AVX2: does every verdict agree?

Float results differ between AVX2-only and AVX-512/VNNI hosts, so a verdict that holds on one kind
must be shown to hold on the other. `python -m impl.harness.capped_isa [-- pytest args]`
(`make test-capped-isa`) runs pytest with every cap the stack offers:

- `ATEN_CPU_CAPABILITY=avx2`: torch's own kernels;
- `ONEDNN_MAX_CPU_ISA=AVX2`: oneDNN, inside torch and TensorFlow;
- `NPY_DISABLE_CPU_FEATURES`: NumPy's AVX-512 dispatch targets (X86_V4, AVX512_ICL, AVX512_SPR);
- `XLA_FLAGS=--xla_cpu_max_isa=AVX2`: JAX's (XLA's) code generation;
- `CLAIMS_MAX_CPU_ISA=avx2`: the claims' own reading of the CPU flags, so a speed claim tied to VNNI
  takes its non-VNNI branch.

ONNX Runtime's MLAS and TFLite's XNNPACK offer no cap: their kernels still use what the CPU has.
The capped run writes its records to a folder of its own; the reference is the uncapped run's records
(`reports/results`, or `--reference`). One Markdown row per claim: both verdicts, whether they agree,
and how the checks' observed values compare, the claim's measured reproducibility tier: `bitwise`
(every observed value equal), `tolerance` (equal within 1e-6 relative), `differs` (statistical or
timing figures; the verdict must still agree). Exit status 1 when a verdict disagrees.
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from impl import paths
from impl.harness import results

CAPS = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "DNNL_MAX_CPU_ISA": "AVX2",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
    "CLAIMS_MAX_CPU_ISA": "avx2",
}
TOLERANCE = 1e-6
# Verdicts that agree: the same, or "not run" on one side for a reason that is about the host (a busy
# or noisy host gives no verdict; it is not a disagreement about the claim).
NOT_RUN = "not run"


def tier(reference: dict[str, Any], capped: dict[str, Any]) -> str:
    """`bitwise`, `tolerance` or `differs`: how the two records' observed check values compare
    (`-` when either has no numeric check)."""
    before = {c["name"]: c.get("observed") for c in reference.get("checks", [])}
    after = {c["name"]: c.get("observed") for c in capped.get("checks", [])}
    pairs = [(before[name], after[name]) for name in before.keys() & after.keys()
             if _number(before[name]) and _number(after[name])]
    if not pairs or before.keys() != after.keys():
        return "-"
    if all(a == b for a, b in pairs):
        return "bitwise"
    if all(math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=0.0) for a, b in pairs):
        return "tolerance"
    return "differs"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def agree(reference: str, capped: str) -> bool:
    """Same verdict; a "not run" on either side (a host reason) is not counted as a disagreement."""
    return reference == capped or NOT_RUN in (reference, capped)


def table(reference: dict[str, dict[str, Any]], capped: dict[str, dict[str, Any]]) -> tuple[str, dict[str, int]]:
    """The Markdown table over the claims in both runs, and the counts of agreements and tiers."""
    keys = sorted(reference.keys() & capped.keys())
    counts = {"claims": len(keys), "agree": 0, "disagree": 0, "not run on one side": 0,
              "bitwise": 0, "tolerance": 0, "differs": 0, "-": 0}
    lines = ["| claim | uncapped | capped to AVX2 | agree | observed values |", "|---|---|---|---|---|"]
    for key in keys:
        before, after = reference[key].get("verdict", "?"), capped[key].get("verdict", "?")
        same = "yes" if before == after else "n/a (not run)" if agree(before, after) else "**no**"
        counts[{"yes": "agree", "**no**": "disagree"}.get(same, "not run on one side")] += 1
        kind = tier(reference[key], capped[key])
        counts[kind] += 1
        lines.append(f"| {key} | {before} | {after} | {same} | {kind} |")
    return "\n".join(lines), counts


def capped_env() -> dict[str, str]:
    """This process's environment with the caps set (XLA_FLAGS extended, not replaced)."""
    env = dict(os.environ, **CAPS)
    if os.environ.get("XLA_FLAGS"):
        env["XLA_FLAGS"] = f"{os.environ['XLA_FLAGS']} {CAPS['XLA_FLAGS']}"
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=None,
                        help="the uncapped run's results folder (default: reports/results)")
    parser.add_argument("--out", type=Path, default=None, help="write the table and counts here as well")
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments after --, e.g. -- specs/l1_linalg")
    args = parser.parse_args(argv)
    reference = results.load(args.reference)
    if not reference:
        parser.error(f"no uncapped results in {args.reference or paths.RESULTS_DIR}: run `make test` first")
    with tempfile.TemporaryDirectory(prefix="claims-capped-") as tmp:
        folder = Path(tmp) / "results"
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--claim-results={folder}",
                               *args.pytest_args], cwd=paths.ROOT, env=capped_env())
        if done.returncode not in (0, 1):
            print(f"capped run: pytest exited {done.returncode}", file=sys.stderr)
            return done.returncode
        capped = results.load(folder)
    text, counts = table(reference, capped)
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    print(text + "\n\n" + summary)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n\n" + summary + "\n", encoding="utf-8")
    return 0 if counts["disagree"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
