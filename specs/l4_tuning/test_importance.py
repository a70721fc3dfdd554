import numpy as np
import pytest

from impl.l4_tuning import importance


@pytest.mark.cpu
def test_dominant_parameter(claim, seed):
    """For f(x, y, z) = (x - 0.3)^2 + 0 y + 0 z + N(0, 1e-4) noise (SD 0.01) on [0, 1]^3 and 50 TPE
    trials, `optuna.importance.get_param_importances` with fANOVA (forest seed 0) ranks x first in at
    least 8 of 10 seeds, and the median over those seeds of x's importance is >= 0.8; the
    mean-decrease-in-impurity evaluator, a second reading of the same kind of random forest, ranks x
    first in at least 8 of 10 seeds too. PED-ANOVA, which fits no forest, is reported beside them.

    The truth is known: y and z do not enter f, so all the variance the parameters explain is x's.
    The catalog states one study; over one study x's fANOVA importance falls below 0.8 in 2.5% of
    seeds (calibration in claims.yaml), so the spec takes the median of 10.
    Catalog id L4.importance; the spec's derived id is L4.importance.dominant_parameter.
    Course: Lesson 4, optimizing LSTM models (insights into which hyperparameters matter).
    """
    n_seeds = claim.t["num_seeds"]
    seeds = [seed * n_seeds + k for k in range(n_seeds)]
    for s in seeds:
        claim.use_seed(s)
    claim.use_seed(0)  # the evaluators' forests
    found = {name: [] for name in importance.EVALUATORS}
    for s in seeds:
        study = importance.dominant_parameter_study(50, s, 0.01)
        for name in importance.EVALUATORS:
            found[name].append(importance.param_importances(study, name, 0))
    x_first = {name: sum(max(by_param, key=by_param.get) == "x" for by_param in found[name]) for name in found}
    median_x = {name: float(np.median([by_param["x"] for by_param in found[name]])) for name in found}
    claim.record(seeds_ranking_x_first=x_first, median_importance_x=median_x, importances_by_seed=found)
    claim.plot(f"Median parameter importance over {n_seeds} studies, f = (x - 0.3)^2 + noise", list(importance.PARAMS),
               {name: [float(np.median([d[p] for d in found[name]])) for p in importance.PARAMS] for name in found},
               kind="bar", ylabel="importance (each study's sum to 1)")
    for name in ("fanova", "mean_decrease_impurity"):
        claim.expect(f"{name}_seeds_ranking_x_first", x_first[name], ">=", "min_seeds_x_first")
    claim.expect("fanova_median_importance_x", median_x["fanova"], ">=", "min_median_importance_x")
