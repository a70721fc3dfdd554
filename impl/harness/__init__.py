"""The claims harness: a pytest plugin that turns course claims into verdicts, and only that.

It imports no lesson code, and no lesson imports it except specs. Specs use it through:
- the `claim` fixture (`impl.harness.claim.Claim`): thresholds, records, checks, plots;
- the `seed` fixture: explicit seeds, rerun over many with `--claim-seeds 0-9`;
- `impl.harness.stats`: tolerances derived from a target false-fail probability;
- `impl.harness.sweep` + `impl.harness.kinds`: the shared bad-input sweep over a lesson's `__all__`.
Artifacts, knobs and provenance belong to the pipeline layer (`impl.pipeline`); thread control and the
performance protocol (warm-up, interleaving, medians, `Inconclusive`/`NoisyHost`) to `impl.timing`, which
stages use too.
"""
