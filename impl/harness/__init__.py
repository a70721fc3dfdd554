"""The claims harness: a pytest plugin that turns course claims into verdicts.

It imports no lesson code. Lessons use it through:
- the `claim` fixture (`impl.harness.claim.Claim`): thresholds, records, checks, plots;
- the `seed` fixture: explicit seeds, rerun over many with `--claim-seeds 0-9`;
- `impl.harness.bench`: the performance protocol (warm-up, interleaving, medians);
- `impl.harness.stats`: tolerances derived from a target false-fail probability;
- `impl.harness.artifacts`: DVC-managed artifacts a spec needs.
"""
