"""The report's figures for one tuned study (an `impl.l4_tuning.studies.export_trials` result).

Optimisation history (each trial's value and the best so far), pruned vs complete trials (steps
each one trained, and their learning curves), fANOVA parameter importances, and where the chosen
configuration sits among the trials along one parameter. Plain data in, `claim.plot` calls out.
"""
from __future__ import annotations

from impl.l4_tuning import studies

MAX_CURVES = 15  # learning curves drawn one per trial up to this many trials; the bar chart covers any count


def plot_study(claim, export: dict, *, what: str, value_label: str, step_label: str, x_param: str,
               logx: bool = False) -> None:
    rows = studies.history(export)
    numbers = [row["trial"] for row in rows]
    state = {row["trial"]: row["state"] for row in rows}

    def only(kind: str, values: list) -> list:
        return [value if state[n] == kind else None for n, value in zip(numbers, values)]

    values = [row["value"] for row in rows]
    claim.plot(f"{what}: optimisation history", numbers,
               {"complete trial": only("COMPLETE", values), "pruned trial (last report)": only("PRUNED", values),
                "best so far": [row["best_value"] for row in rows]},
               xlabel="trial", ylabel=value_label)
    steps = [row["last_step"] for row in rows]
    claim.plot(f"{what}: pruned vs complete trials ({sum(s == 'PRUNED' for s in state.values())} pruned "
               f"of {len(rows)})", numbers,
               {"complete": [s if state[n] == "COMPLETE" else 0 for n, s in zip(numbers, steps)],
                "pruned": [s if state[n] == "PRUNED" else 0 for n, s in zip(numbers, steps)]},
               xlabel="trial", ylabel=f"{step_label}s trained", kind="bar")
    if len(rows) <= MAX_CURVES:
        grid = sorted({step for trial in export["trials"] for step, _ in trial["intermediate_values"]})
        curves = {}
        for trial in export["trials"]:
            reported = dict(trial["intermediate_values"])
            curves[f"#{trial['number']} {trial['state'].lower()}"] = [reported.get(step) for step in grid]
        claim.plot(f"{what}: learning curves the pruner saw", grid, curves, xlabel=step_label, ylabel=value_label)
    importances = export.get("importances") or {}
    if importances:
        claim.plot(f"{what}: parameter importances (fANOVA over complete trials)", list(importances),
                   {"importance": list(importances.values())}, xlabel="parameter", ylabel="share", kind="bar")
    xs = [trial["params"][x_param] for trial in export["trials"]]
    chosen = export["best_trial"]
    claim.plot(f"{what}: the chosen configuration (trial {chosen}) among the trials", xs,
               {"complete": only("COMPLETE", values), "pruned (last report)": only("PRUNED", values),
                "chosen": [value if n == chosen else None for n, value in zip(numbers, values)]},
               xlabel=x_param, ylabel=value_label, kind="scatter", logx=logx)
