"""The capped-ISA comparison: verdicts agree or not, and the observed values' reproducibility tier."""
import pytest

from impl.harness import capped_isa
from impl.pipeline import hardware


def _record(verdict, **observed):
    return {"verdict": verdict, "checks": [{"name": name, "observed": value} for name, value in observed.items()]}


def test_tiers_read_the_observed_values():
    assert capped_isa.tier(_record("holds", a=1.0, b=2), _record("holds", a=1.0, b=2)) == "bitwise"
    assert capped_isa.tier(_record("holds", a=1.0), _record("holds", a=1.0 + 1e-9)) == "tolerance"
    assert capped_isa.tier(_record("holds", a=1.0), _record("holds", a=1.01)) == "differs"
    assert capped_isa.tier(_record("holds", a=1.0), _record("holds", b=1.0)) == "-"  # other checks: no tier
    assert capped_isa.tier(_record("holds", a=True), _record("holds", a=True)) == "-"  # flags are not figures


def test_a_flipped_verdict_is_a_disagreement_and_a_host_not_run_is_counted_apart():
    reference = {"x": _record("holds", a=1.0), "y": _record("holds", a=1.0), "z": _record("not run")}
    capped = {"x": _record("holds", a=1.0), "y": _record("refuted", a=0.5), "z": _record("holds")}
    text, counts = capped_isa.table(reference, capped)
    assert counts["agree"] == 1 and counts["disagree"] == 1 and counts["not run on one side"] == 1
    assert "| y | holds | refuted | **no** | differs |" in text


def test_capped_environment_hides_the_flags_above_avx2(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
    env = capped_isa.capped_env()
    assert env["XLA_FLAGS"].startswith("--xla_force_host_platform_device_count=1 ")  # extended, not replaced
    monkeypatch.setenv(hardware.ISA_CAP_ENV, "avx2")
    hardware.cpu_info.cache_clear()
    try:
        flags = hardware.cpu_info()["cpu_flags"]
        assert not any(flag.startswith(hardware.ABOVE_AVX2) for flag in flags)
        assert hardware.cpu_info()["isa_cap"] == "avx2"
        monkeypatch.setenv(hardware.ISA_CAP_ENV, "avx9")
        with pytest.raises(ValueError, match="CLAIMS_MAX_CPU_ISA"):
            hardware.isa_cap()
    finally:
        monkeypatch.delenv(hardware.ISA_CAP_ENV)
        hardware.cpu_info.cache_clear()
