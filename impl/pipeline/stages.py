"""Every DVC stage of the project, read from the dvc.yaml files, and the runner behind each stage.

DVC joins the shared `dvc.yaml` and each lesson's `impl/<lesson>/dvc.yaml` into one graph.
Lesson stages run from the project root (`wdir: ../..`), so every path in every dvc.yaml is
relative to the root, and each stage runs one `python -m impl.<package>.<module>` entry point.

A stage module is `run(knobs, out_dir) -> summary` plus `main = stage_main(run, lesson, section)`,
and `TINY_KNOBS`: overrides that make `run` finish in seconds, so a test runs every stage for
real in a temp folder (as flax's examples test `train_and_evaluate` with one tiny epoch).
`run` does the work and returns its headline figures; the runner writes them to
`data/metrics/<lesson>/<module>.json` (a DVC metric, committed) and the wall time, any figure
named `*_seconds` and the CPU kind to `data/timings/<lesson>/<module>.json` (per machine, never
committed). So the content outputs (models, arrays) and the metrics hold no timings, reproduce
bit for bit on one machine, and a run leaves `git status` clean.
"""
from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from impl import paths
from impl.atomic import atomic_write_text

_ENTRY = re.compile(r"^python -m (impl(?:\.[a-z0-9_]+)+)(?:\s|$)")


@dataclass(frozen=True)
class Stage:
    """One stage; paths are relative to the project root."""

    name: str
    dvcfile: str        # "dvc.yaml" or "impl/<lesson>/dvc.yaml"
    cmd: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]   # outs, metrics and plots files
    params: dict[str, tuple[str, ...]]  # params file -> keys (empty: the whole file)
    wdir: str = "."     # where its command runs; dvc.lock names its outputs relative to it

    @property
    def address(self) -> str:
        """How `dvc repro` names it from the root."""
        return self.name if self.dvcfile == "dvc.yaml" else f"{self.dvcfile}:{self.name}"

    @property
    def module(self) -> str | None:
        """The entry-point module of `python -m impl....`, or None for another command."""
        match = _ENTRY.match(self.cmd)
        return match.group(1) if match else None

    @property
    def verified_lesson(self) -> str | None:
        """The lesson folder a `verify` stage runs the specs of (`python -m impl.pipeline.verify
        <lesson>`), or None for any other stage."""
        parts = self.cmd.split()
        return parts[3] if parts[:3] == ["python", "-m", "impl.pipeline.verify"] and len(parts) > 3 else None

    def covers(self, relpath: str) -> bool:
        """Is `relpath` (a file or folder) one of the deps or inside a folder dep?"""
        return any(_within(relpath, dep) for dep in self.deps)


def dvc_files(root: Path | None = None) -> list[Path]:
    """The shared dvc.yaml and every lesson's impl/<lesson>/dvc.yaml."""
    root = Path(root or paths.ROOT)
    return [path for path in [root / "dvc.yaml", *sorted((root / "impl").glob("*/dvc.yaml"))] if path.is_file()]


def _names(entries: list[Any]) -> list[str]:
    """Paths from a deps/outs/metrics/plots list whose items are strings or {path: options}."""
    return [item if isinstance(item, str) else next(iter(item)) for item in entries or []]


def _params(entries: list[Any]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for item in entries or []:
        if isinstance(item, str):
            found.setdefault("params.yaml", ())
            found["params.yaml"] += (item,)
        else:
            for file, keys in item.items():
                found[file] = tuple(keys or ())
    return found


def _rebase(path: str, base: Path, root: Path) -> str:
    return (base / path).resolve().relative_to(root.resolve()).as_posix()


def all_stages(root: Path | None = None) -> list[Stage]:
    """Every stage of every dvc.yaml, paths made relative to the project root."""
    root = Path(root or paths.ROOT)
    stages = []
    for dvcfile in dvc_files(root):
        spec = yaml.safe_load(dvcfile.read_text(encoding="utf-8")) or {}
        for name, stage in (spec.get("stages") or {}).items():
            base = (dvcfile.parent / stage.get("wdir", ".")).resolve()
            outs = _names(stage.get("outs")) + _names(stage.get("metrics")) + _names(stage.get("plots"))
            params = {_rebase(file, base, root): keys for file, keys in _params(stage.get("params")).items()}
            stages.append(Stage(
                name=name, dvcfile=dvcfile.relative_to(root).as_posix(), cmd=str(stage.get("cmd", "")),
                deps=tuple(_rebase(d, base, root) for d in _names(stage.get("deps"))),
                outs=tuple(_rebase(o, base, root) for o in outs), params=params,
                wdir=_rebase(".", base, root) or ".",
            ))
    return stages


def verify_stage(lesson: str, root: Path | None = None) -> Stage:
    """The stage that verifies a lesson folder's specs (`verify` in impl/<lesson>/dvc.yaml)."""
    found = [stage for stage in all_stages(root) if stage.verified_lesson == lesson]
    if len(found) != 1:
        raise KeyError(f"expected one stage running `python -m impl.pipeline.verify {lesson}` in dvc.yaml, "
                       f"found {[stage.address for stage in found]}")
    return found[0]


def _within(path: str, folder: str) -> bool:
    """`path` is `folder` or lies under it (root-relative POSIX paths)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _overlap(dep: str, out: str) -> bool:
    return _within(dep, out) or _within(out, dep)


def upstream(address: str, root: Path | None = None) -> list[Stage]:
    """The stage `address` and every stage it depends on, each after the stages that produce its deps:
    the order `dvc repro <address>` runs them in."""
    every = all_stages(root)
    by_address = {stage.address: stage for stage in every}
    if address not in by_address:
        raise KeyError(f"no DVC stage {address!r} (known: {sorted(by_address)[:5]} ...)")
    ordered: list[Stage] = []
    visiting: set[str] = set()

    def visit(stage: Stage) -> None:
        if stage in ordered:
            return
        if stage.address in visiting:
            raise ValueError(f"the DVC stages form a cycle through {stage.address}")
        visiting.add(stage.address)
        for other in every:
            if other is not stage and any(_overlap(dep, out) for dep in stage.deps for out in other.outs):
                visit(other)
        visiting.discard(stage.address)
        ordered.append(stage)

    visit(by_address[address])
    return ordered


def producer(relpath: str, root: Path | None = None) -> Stage:
    """The stage whose outputs include `relpath` (a root-relative path)."""
    for stage in all_stages(root):
        if relpath in stage.outs:
            return stage
    raise KeyError(f"no DVC stage declares {relpath!r} as an output (see dvc.yaml and impl/*/dvc.yaml)")


# -- the stage runner ----------------------------------------------------------------
TIMING_SUFFIXES = ("_seconds", "_ms")  # the units a stage's timings are named in


def is_timing(key: str) -> bool:
    """Figures that differ run to run on one machine (`*_seconds`, `*_ms`): they go to the timings file,
    not the committed metrics."""
    return key.endswith(TIMING_SUFFIXES)


def write_metrics(path: Path, timings_path: Path, summary: dict[str, Any], wall_seconds: float) -> dict[str, Any]:
    """Split a stage's summary: its deterministic figures (and profile) to `path`; its wall time, every
    timing figure (`is_timing`) and the CPU kind that produced the outputs to `timings_path`. Returns both merged."""
    from impl.pipeline import hardware, params

    cpu = hardware.cpu_info()
    figures = {key: value for key, value in summary.items() if not is_timing(key)}
    figures["profile"] = params.profile()
    timings = {key: value for key, value in summary.items() if is_timing(key)}
    timings.update(wall_seconds=round(wall_seconds, 3), profile=params.profile(), cpu_model=cpu["cpu_model"],
                   cpu_flags=" ".join(cpu["cpu_flags"]))
    for target, record in ((Path(path), figures), (Path(timings_path), timings)):
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return {**figures, **timings}


def stage_main(run: Callable[[dict[str, Any], Path], dict[str, Any]], lesson: str, section: str | None,
               out_dir: Path | None = None) -> Callable[[], int]:
    """The thin `main()` of a stage module: one section of the lesson's knobs (None: it has none),
    outputs to the lesson's folder under data/models unless `out_dir` says otherwise."""
    def main() -> int:
        from impl.pipeline import params

        spec = getattr(sys.modules[run.__module__], "__spec__", None)  # under `python -m`, __module__ is __main__
        module = (spec.name if spec else run.__module__).rsplit(".", 1)[-1]
        knobs = params.knobs(lesson, section) if section is not None else {}
        target = Path(out_dir or paths.lesson_models(lesson))
        target.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        summary = run(knobs, target)
        record = write_metrics(paths.lesson_metrics(lesson) / f"{module}.json",
                               paths.lesson_timings(lesson) / f"{module}.json", summary, time.perf_counter() - start)
        print(f"{lesson}.{module}: " + ", ".join(f"{k} {v}" for k, v in record.items() if not isinstance(v, (dict, list))),
              file=sys.stderr)
        return 0

    main.run, main.lesson, main.section, main.out_dir = run, lesson, section, out_dir  # for the tiny-knob test
    return main
