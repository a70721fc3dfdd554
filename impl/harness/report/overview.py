"""The page's overview: verdict totals, one bar per lesson, the latest run, and the environment panel.

Every value is read from the run summaries (reports/runs.jsonl) or the records; a fact neither holds
is shown as `NOT_RECORDED`, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from impl.harness.report.headlines import Headline, build_headlines
from impl.harness.report.hosts import COMBINE_RULE, Hosts
from impl.harness.report.model import LessonView
from impl.harness.report.text import hardware_line, number
from impl.harness.verdicts import VERDICTS

NOT_RECORDED = "not recorded"
KEY_LIBRARIES = ("torch", "tensorflow", "jax", "jaxlib", "onnxruntime", "pyspark", "optuna", "dvc", "numpy",
                 "scipy", "scikit-learn", "pymc")


@dataclass(frozen=True)
class Segment:
    verdict: str
    count: int
    percent: str  # of the lesson's claims, e.g. "12.5"


@dataclass(frozen=True)
class LessonBar:
    folder: str
    title: str
    total: int
    segments: list[Segment]


@dataclass
class Overview:
    totals: list[tuple[str, int]]  # (verdict, claims), every verdict in VERDICTS order
    bars: list[LessonBar]
    run: list[tuple[str, str]]  # (fact, value) of the latest run
    environment: list[tuple[str, str, str]]  # (field, value, where it was read)
    run_id: str = ""
    notes: list[str] = field(default_factory=list)
    headlines: list[Headline] = field(default_factory=list)  # speed figures beside their anchors


def _text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return NOT_RECORDED
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def _bars(lessons: list[LessonView]) -> list[LessonBar]:
    bars = []
    for lesson in lessons:
        counts = lesson.counts()
        total = sum(counts.values())
        segments = [Segment(v, n, f"{100 * n / total:.1f}") for v, n in counts.items() if n and total]
        bars.append(LessonBar(lesson.folder, lesson.title, total, segments))
    return bars


def latest_run(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary with the greatest run id (ids start with the start time), {} when there is none."""
    valid = [s for s in summaries if isinstance(s, dict) and s.get("run")]
    return max(valid, key=lambda s: str(s["run"])) if valid else {}


def _run_facts(run: dict[str, Any]) -> list[tuple[str, str]]:
    git = run.get("git") or {}
    dirty = git.get("dirty")
    counts = run.get("counts") or {}
    return [
        ("run", _text(run.get("run"))),
        ("started (UTC)", _text(run.get("started"))),
        ("wall time", f"{number(run['wall_s'])} s" if isinstance(run.get("wall_s"), (int, float)) else NOT_RECORDED),
        ("profile", _text(run.get("profile"))),
        ("pytest arguments", _text(run.get("args")) if run.get("args") is not None else NOT_RECORDED),
        ("commit", _text(git.get("commit"))),
        ("uncommitted changes", NOT_RECORDED if dirty is None else ("yes (dirty)" if dirty else "no (clean)")),
        ("exit status", _text(run.get("exitstatus"))),
        ("xdist workers", _text(run.get("workers")) if run.get("workers") is not None else NOT_RECORDED),
        ("verdicts of this run", ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts.get(v)) or NOT_RECORDED),
        ("lessons run", _text(run.get("lessons"))),
    ]


def _latest_record(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return max(records.values(), key=lambda r: (str(r.get("timestamp") or ""), r["key"])) if records else {}


def _gpus(records: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """GPU names from records of gpu claims (others never probe: their `gpus` is None)."""
    probed = [r["hardware"]["gpus"] for r in records.values() if isinstance((r.get("hardware") or {}).get("gpus"), list)]
    if not probed:
        return NOT_RECORDED + " (no gpu claim ran)", "records"
    names = sorted({name for found in probed for name in found})
    return (", ".join(names) if names else "none found"), f"records of {len(probed)} gpu claim run(s)"


def _versions(records: dict[str, dict[str, Any]], name: str) -> str:
    found = sorted({str(v) for r in records.values() for k, v in (r.get("versions") or {}).items() if k == name})
    return " / ".join(found) if found else NOT_RECORDED


def environment(run: dict[str, Any], records: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(field, value, source) rows: the host from the latest run's summary, else from the newest record."""
    record = _latest_record(records)
    run_hw, record_hw = run.get("hardware") or {}, record.get("hardware") or {}

    def host(name: str, label: str, unit: str = "") -> tuple[str, str, str]:
        for hw, source in ((run_hw, f"runs.jsonl ({run.get('run')})"), (record_hw, f"record {record.get('key')}")):
            if hw.get(name) not in (None, "", [], {}):
                return label, _text(hw[name]) + unit, source
        return label, NOT_RECORDED, "neither"

    gpus, gpu_source = _gpus(records)
    driver = next((str(hw[k]) for hw in (run_hw, record_hw) for k in ("gpu_driver", "cuda_driver") if hw.get(k)),
                  NOT_RECORDED)
    rows = [host("cpu_model", "CPU model"), host("cpu_flags", "CPU flags (speed-relevant)"),
            host("cpu_count", "logical cores"), host("physical_cores", "physical cores"),
            host("machine", "architecture"), host("memory_gib", "memory", " GiB"), host("os", "OS"),
            host("python", "Python"), ("GPUs", gpus, gpu_source), ("GPU driver", driver, "runs.jsonl / records"),
            host("threads", "thread settings"),
            ("hosts among the records", str(len({hardware_line(r) for r in records.values()})), "records")]
    rows += [(f"{name} version", _versions(records, name), "records' versions") for name in KEY_LIBRARIES]
    return rows


def host_rows(hosts: Hosts) -> list[tuple[str, str, str]]:
    """One environment row per host that ran claims, when there are several (ids as on the claim cards)."""
    if not hosts.many:
        return []
    return [(f"host {host.id}", host.label, "records and runs.jsonl") for _, host in sorted(hosts.hosts.items())]


def build_overview(lessons: list[LessonView], records: dict[str, dict[str, Any]],
                   summaries: list[dict[str, Any]], hosts: Hosts | None = None) -> Overview:
    """The totals count each claim once, by its verdict across hosts (`hosts.COMBINE_RULE`)."""
    if not isinstance(lessons, list) or not isinstance(records, dict) or not isinstance(summaries, list):
        raise TypeError("build_overview takes a list of lessons, a dict of records and a list of run summaries")
    hosts = hosts or Hosts(records.values(), summaries)
    totals = {verdict: 0 for verdict in VERDICTS}
    for lesson in lessons:
        for verdict, count in lesson.counts().items():
            totals[verdict] += count
    run = latest_run(summaries)
    notes = [] if run else ["no run summary yet (reports/runs.jsonl is written by each pytest run)"]
    if hosts.many:
        notes.append(f"{len(hosts.hosts)} hosts ran claims; {COMBINE_RULE}. The latest run and the environment "
                     "above are the latest run's host; each claim card lists every host's verdict.")
    return Overview(list(totals.items()), _bars(lessons), _run_facts(run),
                    environment(run, records) + host_rows(hosts), str(run.get("run") or ""), notes,
                    build_headlines(records))
