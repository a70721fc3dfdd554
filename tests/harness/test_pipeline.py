"""dvc.yaml is keyed by the profile wherever a stage's knobs depend on it."""
import yaml

from impl import paths
from impl.harness import params


def _lookup(data, dotted):
    for part in dotted.split("."):
        data = data[part]
    return data


def test_profile_dependent_stages_list_the_profile_param():
    stages = yaml.safe_load(paths.DVC_LOCK.with_name("dvc.yaml").read_text())["stages"]
    data = params.load()
    missing = []
    for name, stage in stages.items():
        keys = [key for key in stage.get("params", []) if isinstance(key, str)]
        for key in keys:
            value = _lookup(data, key)
            if params.resolve_profile(value, "quick") != params.resolve_profile(value, "full") and "profile" not in keys:
                missing.append(f"{name}: {key}")
    assert not missing, f"stages whose knobs differ by profile must list `profile` in params: {missing}"


def test_every_stage_runs_an_impl_entry_point():
    stages = yaml.safe_load(paths.DVC_LOCK.with_name("dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        assert stage["cmd"].startswith("python -m impl."), f"{name}: {stage['cmd']}"
