"""Which machine a record or a history line came from, and how verdicts of several machines combine.

A host is identified by the facts of its `hardware` panel that stay put while the machine does:
CPU model, logical cores, architecture and memory (`IDENTITY_FIELDS`). GPU names are not part of it:
a record of a CPU claim never probes the GPU, so the same machine's CPU and GPU claims must still
share one host. Two machines of the same kind (same CPU, cores and memory) count as one host: their
verdicts measure the same thing. The id is a short hash of those facts, so it is the same on every
machine that reads the records.

History lines carry only the CPU model and flags; a line is placed on a host through its run id
(from the run summaries or the records), else on the one known host with that CPU model and flags,
else on a host of its own named by that CPU kind.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from impl.harness.report.text import check_line, git_line, key_check
from impl.harness.verdicts import VERDICTS, worst

SUMMARY_SHOWN = 120

IDENTITY_FIELDS = ("cpu_model", "cpu_count", "machine", "memory_gib")
ID_CHARS = 8
COMBINE_RULE = ("a claim run on several hosts counts once, by the worst verdict among the hosts that judged it "
                "(holds, refuted, known refuted, error); it is \"not run\" only when no host ran it, so a GPU claim "
                "skipped on the CPU box and held on the GPU box counts as held")


def _hardware(hardware: Any, what: str) -> dict[str, Any]:
    if not isinstance(hardware, dict):
        raise TypeError(f"{what} must be a hardware mapping, got {type(hardware).__name__}")
    return hardware


def host_id(hardware: dict[str, Any]) -> str:
    """The host's stable short id, e.g. 'h1a2b3c4d', from `IDENTITY_FIELDS` of a hardware panel."""
    hardware = _hardware(hardware, "hardware")
    facts = {name: hardware.get(name) for name in IDENTITY_FIELDS}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode("utf-8")).hexdigest()
    return "h" + digest[:ID_CHARS]


def cpu_kind(cpu_model: Any, cpu_flags: Any) -> str:
    """CPU model and speed-relevant flags as one string: all a history line says about its host."""
    flags = " ".join(str(f) for f in cpu_flags) if isinstance(cpu_flags, (list, tuple)) else ""
    return f"{cpu_model or '?'} [{flags}]"


def kind_id(kind: str) -> str:
    """The id of a host known only by its CPU kind (a history line no run summary or record places)."""
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a string, got {type(kind).__name__}")
    return "k" + hashlib.sha256(kind.encode("utf-8")).hexdigest()[:ID_CHARS]


def across_hosts(verdicts: Iterable[str]) -> str:
    """The verdict of a claim over its hosts' verdicts (see `COMBINE_RULE`)."""
    verdicts = list(verdicts)
    if not verdicts or any(v not in VERDICTS for v in verdicts):
        raise ValueError(f"verdicts must be a non-empty list of {VERDICTS}, got {verdicts!r}")
    judged = [v for v in verdicts if v != "not run"]
    return worst(judged) if judged else "not run"


@dataclass
class Host:
    id: str
    cpu_model: str
    cpu_count: Any
    memory_gib: Any
    gpus: list[str] = field(default_factory=list)  # names any of its records or run summaries probed

    @property
    def label(self) -> str:
        """Short description for a claim card, e.g. 'AMD EPYC, 2 cores, 7.8 GiB; GPU: NVIDIA H100'."""
        parts = [self.cpu_model or "unknown CPU"]
        if self.cpu_count is not None:
            parts.append(f"{self.cpu_count} cores")
        if self.memory_gib is not None:
            parts.append(f"{self.memory_gib} GiB")
        text = ", ".join(str(p) for p in parts)
        return text + (f"; GPU: {', '.join(self.gpus)}" if self.gpus else "")


class Hosts:
    """Every host among the records and run summaries, and which host each run and history line ran on."""

    def __init__(self, records: Iterable[dict[str, Any]] = (), summaries: Iterable[dict[str, Any]] = ()):
        """Hosts are those of the records; run summaries only place more (older) runs on hosts."""
        self.hosts: dict[str, Host] = {}
        self.by_run: dict[str, str] = {}
        self._by_kind: dict[str, set[str]] = {}
        panels = [(r.get("run"), r.get("hardware")) for r in records if isinstance(r, dict)]
        for run, hardware in sorted(panels, key=lambda p: json.dumps(p, sort_keys=True, default=str)):
            if not isinstance(hardware, dict):
                continue
            host = self.hosts.setdefault(host_id(hardware), Host(
                host_id(hardware), str(hardware.get("cpu_model") or ""), hardware.get("cpu_count"),
                hardware.get("memory_gib")))
            host.gpus = sorted(set(host.gpus) | {str(g) for g in hardware.get("gpus") or []})
            self._by_kind.setdefault(cpu_kind(hardware.get("cpu_model"), hardware.get("cpu_flags")), set()).add(host.id)
            if run:
                self.by_run.setdefault(str(run), host.id)  # the smallest panel wins a (rare) id collision
        for summary in sorted((s for s in summaries if isinstance(s, dict) and s.get("run")), key=lambda s: str(s["run"])):
            if isinstance(summary.get("hardware"), dict):
                self.by_run.setdefault(str(summary["run"]), host_id(summary["hardware"]))

    def of_record(self, record: dict[str, Any]) -> str:
        return host_id(_hardware(record.get("hardware") if isinstance(record, dict) else None, "record['hardware']"))

    def of_line(self, run: str, kind: str) -> str:
        """The host of a history line from run `run` whose CPU kind is `kind` (see the module's rule)."""
        if run and run in self.by_run:
            return self.by_run[run]
        matches = self._by_kind.get(kind, set())
        return next(iter(matches)) if len(matches) == 1 else kind_id(kind)

    def label(self, host: str) -> str:
        return self.hosts[host].label if host in self.hosts else "unplaced history (no record of its run)"

    @property
    def many(self) -> bool:
        return len(self.hosts) > 1


@dataclass(frozen=True)
class HostVerdict:
    """A claim's verdict on one host, for the side-by-side row on its card."""

    host: str
    label: str
    verdict: str
    summary: str  # the host's tightest check, else its message
    commit: str
    timestamp: str


def split_by_host(records: list[dict[str, Any]], hosts: Hosts) -> list[tuple[str, list[dict[str, Any]]]]:
    """A claim's records grouped by host, the host shown in detail first: one that judged the claim (not
    "not run"), the worst verdict among those, then the newest record, then the host id."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(hosts.of_record(record), []).append(record)

    def order(item: tuple[str, list[dict[str, Any]]]) -> tuple[int, int, str, str]:
        verdict = worst(r["verdict"] for r in item[1])
        newest = max(r["timestamp"] for r in item[1])
        inverted = "".join(chr(0x10FFFF - ord(c)) for c in newest)  # newest first within a sort ascending
        return int(verdict == "not run"), VERDICTS.index(verdict), inverted, item[0]

    return sorted(groups.items(), key=order)


def host_verdict(host: str, records: list[dict[str, Any]], hosts: Hosts) -> HostVerdict:
    """One host's row: its verdict (the worst of its records) and what decided it, the tightest check of
    the first record with that verdict, else that record's message (e.g. why it was not run)."""
    verdict = worst(r["verdict"] for r in records)
    deciding = next(r for r in records if r["verdict"] == verdict)
    check = key_check(deciding["checks"])
    return HostVerdict(host, hosts.label(host), verdict,
                       check_line(check) if check else deciding["message"][:SUMMARY_SHOWN],
                       ", ".join(dict.fromkeys(git_line(r) for r in records)), max(r["timestamp"] for r in records))
