"""What `make mutants` decides without running anything: which modules, which mutants, and the tally.

- `lesson_modules` reads `impl/tools/mutants.yaml`: per lesson, the modules whose mutants are sampled.
- `sample` draws N mutants with a fixed seed, spread over modules in proportion to how many
  mutants each has (every module gets at least one while N allows), so the kill rate estimates the
  lesson's, not its largest module's.
- `equivalents` reads `specs/<lesson>/equivalent_mutants.yaml`: survivors argued equivalent (the
  mutated program behaves the same on every input the method accepts), each matched by module,
  operator and the line before and after the mutation (not by occurrence number, which shifts when
  the module changes), each with its reason.
- `summarize` tallies outcomes; the kill rate is (killed + timed out) / (killed + timed out +
  survivors not argued equivalent). Incompetent runs (the mutation could not be applied or the test
  command could not start) count in no denominator.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from impl.checks import as_int, as_seed, as_str

__all__ = ["OUTCOMES", "Mutant", "Result", "lesson_modules", "sample", "equivalents", "match_equivalent", "overview",
           "summarize", "markdown"]

OUTCOMES = ("killed", "survived", "timed out", "incompetent")
EQUIVALENT_KEYS = ("module", "operator", "before", "after", "reason")


@dataclass(frozen=True, order=True)
class Mutant:
    """One mutation cosmic-ray can make: `operator`'s `occurrence`-th site in `module` (root-relative)."""
    module: str
    line: int
    column: int
    operator: str
    occurrence: int


@dataclass
class Result:
    """A mutant's run: its outcome, the changed line before/after, the diff and how long the specs ran."""
    mutant: Mutant
    outcome: str
    seconds: float
    before: str = ""
    after: str = ""
    diff: str = ""
    equivalent: str | None = None  # the reason, when the survivor is argued equivalent
    output_tail: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        as_str(self.outcome, "outcome", choices=OUTCOMES)


def _load_yaml(path: Path, what: str):
    try:
        return yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{what} {path} is not valid YAML: {exc}") from exc


def lesson_modules(config: Path, lesson: str, root: Path) -> list[str]:
    """The root-relative modules listed for `lesson` in `config`; each must exist under `root`."""
    lesson = as_str(lesson, "lesson")
    table = _load_yaml(config, "mutants config")
    if not isinstance(table, dict):
        raise ValueError(f"{config} must map each lesson to a list of modules")
    if lesson not in table:
        raise ValueError(f"lesson {lesson!r} is not in {config} (it lists {', '.join(sorted(table))})")
    modules = table[lesson]
    if not isinstance(modules, list) or not modules or not all(isinstance(m, str) for m in modules):
        raise ValueError(f"{config}: {lesson} must list module paths, got {modules!r}")
    for module in modules:
        if not module.endswith(".py") or not (Path(root) / module).is_file():
            raise ValueError(f"{config}: {lesson} lists {module!r}, which is not a Python file under {root}")
    if len(set(modules)) != len(modules):
        raise ValueError(f"{config}: {lesson} lists a module twice")
    return modules


def _shares(counts: dict[str, int], n: int) -> dict[str, int]:
    """n split over modules in proportion to counts (largest remainder), at least one each while n allows."""
    modules = sorted(counts)
    floor = {m: 1 if n >= len(modules) else 0 for m in modules}
    rest = n - sum(floor.values())
    total = sum(counts[m] - floor[m] for m in modules)
    quotas = {m: rest * (counts[m] - floor[m]) / total if total else 0.0 for m in modules}
    shares = {m: floor[m] + int(quotas[m]) for m in modules}
    by_remainder = sorted(modules, key=lambda m: (-(quotas[m] - int(quotas[m])), m))
    for m in by_remainder[: n - sum(shares.values())]:
        shares[m] += 1
    return shares


def sample(mutants: list[Mutant], n: int, seed: int) -> list[Mutant]:
    """`n` of `mutants` (all when fewer), drawn per module with `random.Random(seed)`, sorted.

    The same mutants and seed give the same draw whatever order the mutants come in.
    """
    n = as_int(n, "n", minimum=1)
    seed = as_seed(seed)
    if not mutants:
        raise ValueError("mutants must not be empty: the modules offer no mutation site")
    if len(set(mutants)) != len(mutants):
        raise ValueError("mutants must be distinct")
    if n >= len(mutants):
        return sorted(mutants)
    by_module: dict[str, list[Mutant]] = defaultdict(list)
    for mutant in sorted(mutants):
        by_module[mutant.module].append(mutant)
    rng = random.Random(seed)
    shares = _shares({m: len(v) for m, v in by_module.items()}, n)
    return sorted(chosen for m in sorted(by_module) for chosen in rng.sample(by_module[m], shares[m]))


def equivalents(path: Path, modules: list[str], root: Path) -> list[dict]:
    """The argued-equivalent survivors listed in `path` (none when it does not exist), checked.

    Each entry names a module of this lesson, an operator, the stripped source line `before` (which
    must still occur in that module: a stale entry is an error, not a silent miss), `after` and a reason.
    """
    if not Path(path).exists():
        return []
    entries = _load_yaml(path, "equivalent-mutants table") or []
    if not isinstance(entries, list):
        raise ValueError(f"{path} must be a list of entries with {', '.join(EQUIVALENT_KEYS)}")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != set(EQUIVALENT_KEYS):
            raise ValueError(f"{path} entry {i} must have exactly the keys {', '.join(EQUIVALENT_KEYS)}")
        if not all(isinstance(entry[k], str) and entry[k].strip() for k in EQUIVALENT_KEYS):
            raise ValueError(f"{path} entry {i}: every field must be a non-empty string")
        if entry["module"] not in modules:
            raise ValueError(f"{path} entry {i}: {entry['module']} is not one of this lesson's mutated modules")
        source = [line.strip() for line in (Path(root) / entry["module"]).read_text().splitlines()]
        if entry["before"].strip() not in source:
            raise ValueError(f"{path} entry {i}: the line {entry['before']!r} no longer occurs in {entry['module']}")
    return entries


def match_equivalent(result: Result, entries: list[dict]) -> str | None:
    """The reason of the entry this survivor matches (module, operator, line before and after), or None."""
    for entry in entries:
        if (entry["module"], entry["operator"]) == (result.mutant.module, result.mutant.operator) \
                and entry["before"].strip() == result.before.strip() and entry["after"].strip() == result.after.strip():
            return entry["reason"]
    return None


def summarize(lesson: str, results: list[Result], *, n_mutants: int, seed: int, baseline_s: float,
              timeout_s: float, wall_s: float) -> dict:
    """The lesson's tally, kill rate and survivors (argued-equivalent ones apart), as plain JSON data."""
    counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in OUTCOMES}
    equivalent = [r for r in results if r.outcome == "survived" and r.equivalent]
    detected = counts["killed"] + counts["timed out"]
    judged = detected + counts["survived"] - len(equivalent)
    rows = [{**asdict(r.mutant), "outcome": r.outcome, "seconds": round(r.seconds, 1), "before": r.before,
             "after": r.after, "equivalent": r.equivalent} for r in results]
    return {
        "lesson": lesson, "seed": seed, "sampled": len(results), "enumerated": n_mutants,
        "baseline_s": round(baseline_s, 1), "timeout_s": round(timeout_s, 1), "wall_s": round(wall_s, 1),
        **{k.replace(" ", "_"): v for k, v in counts.items()}, "equivalent": len(equivalent),
        "kill_rate": round(detected / judged, 4) if judged else None,
        "survivors": [{**asdict(r.mutant), "before": r.before, "after": r.after, "diff": r.diff}
                      for r in results if r.outcome == "survived" and not r.equivalent],
        "argued_equivalent": [{**asdict(r.mutant), "before": r.before, "after": r.after, "reason": r.equivalent}
                              for r in equivalent],
        "mutants": rows,
    }


def overview(summaries: list[dict]) -> str:
    """One page over every lesson measured: its kill rate, tally and when and on what code it was measured."""
    lines = ["# Mutants: kill rates per lesson", "",
             "Each lesson's core modules (`impl/tools/mutants.yaml`) mutated by cosmic-ray, a seeded sample judged by the "
             "lesson's fast specs (`make mutants LESSON=<lesson>`). The kill rate leaves out the survivors argued "
             "equivalent in `specs/<lesson>/equivalent_mutants.yaml`; each lesson's page lists its survivors.", "",
             "| lesson | sampled (of all) | killed | timed out | survived | argued equivalent | kill rate | measured on |",
             "|---|---|---|---|---|---|---|---|"]
    for s in sorted(summaries, key=lambda s: s["lesson"]):
        rate = s["kill_rate"]
        lines.append(f"| [{s['lesson']}](mutants/{s['lesson']}.md) | {s['sampled']} ({s['enumerated']}) | {s['killed']} | "
                     f"{s['timed_out']} | {s['survived'] - s['equivalent']} | {s['equivalent']} | "
                     f"{'n/a' if rate is None else f'{100 * rate:.1f}%'} | {s.get('measured_on', 'not recorded')} |")
    if not summaries:
        lines.append("| (none measured on this checkout) | | | | | | | |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`" if text else ""


def markdown(summary: dict) -> str:
    """The summary as a Markdown page: the tally, each survivor with its diff, the argued-equivalent ones."""
    rate = summary["kill_rate"]
    lines = [
        f"# Mutants: {summary['lesson']}", "",
        f"{summary['sampled']} of {summary['enumerated']} mutants (seed {summary['seed']}), each run against the "
        f"lesson's fast specs (`-m \"not slow and not perf and not gpu\" -x`); baseline {summary['baseline_s']} s, "
        f"timeout {summary['timeout_s']} s, wall time {summary['wall_s']} s.", "",
        "| killed | survived | timed out | incompetent | argued equivalent | kill rate (non-equivalent) |",
        "|---|---|---|---|---|---|",
        f"| {summary['killed']} | {summary['survived'] - summary['equivalent']} | {summary['timed_out']} | "
        f"{summary['incompetent']} | {summary['equivalent']} | {'n/a' if rate is None else f'{100 * rate:.1f}%'} |",
        "", f"## Survivors ({len(summary['survivors'])})", "",
    ]
    for s in summary["survivors"]:
        lines += [f"### {s['module']}:{s['line']} `{s['operator']}` (occurrence {s['occurrence']})", "",
                  "```diff", s["diff"].strip(), "```", ""]
    if not summary["survivors"]:
        lines += ["None.", ""]
    lines += [f"## Argued equivalent ({len(summary['argued_equivalent'])})", ""]
    if summary["argued_equivalent"]:
        lines += ["| module:line | operator | before | after | why equivalent |", "|---|---|---|---|---|"]
        lines += [f"| {e['module']}:{e['line']} | `{e['operator']}` | {_cell(e['before'])} | {_cell(e['after'])} | "
                  f"{e['reason'].replace('|', '/')} |" for e in summary["argued_equivalent"]]
    else:
        lines += ["None."]
    lines += ["", "## Every sampled mutant", "", "| module:line | operator | outcome | seconds |", "|---|---|---|---|"]
    lines += [f"| {m['module']}:{m['line']} | `{m['operator']}` | {m['outcome']}"
              f"{' (equivalent)' if m['equivalent'] else ''} | {m['seconds']} |" for m in summary["mutants"]]
    return "\n".join(lines) + "\n"
