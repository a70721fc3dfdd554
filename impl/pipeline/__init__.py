"""The pipeline layer: knobs, DVC stages and artifacts, provenance.

Shared by DVC stages, lessons, data loaders and the pytest plugin; it imports none of
them (and never the plugin), so a stage runs without pytest and a loader without a claim.
- `params`: the shared switches (params.yaml) and each lesson's knobs (impl/<lesson>/params.yaml);
- `stages`: every DVC stage of every dvc.yaml, and the `run(knobs, out_dir)` stage runner;
- `artifacts`: bring a stage's output up to date through DVC and record its hash;
- `provenance`: git state, package versions from the lock file, dvc.lock hashes, the
  per-claim recorder of artifacts and seeds;
- `hardware`: the CPU kind (model and the flags that decide speed claims), threads, GPUs.
"""
