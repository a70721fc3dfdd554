"""Word count the way Hadoop streaming runs it: map, (combine), partition, sort, reduce.

A job splits its input lines into `n_mappers` contiguous splits. Each mapper turns its lines into
(word, 1) records (`mapper`); an optional combiner sums each mapper's records per word before they
leave it (`combine`, the reducer applied map-side, as Hadoop's `-combiner` does). Every record goes
to reducer `partition(word, n_reducers)` (a stable hash: CRC-32 of the UTF-8 key, so the same word
lands on the same reducer in any process, unlike Python's salted `hash`). Each reducer sorts its
records by key, groups equal keys and calls `reducer(word, counts)`. The shuffle is measured as
records and as bytes in streaming's text format, one `word<TAB>count<NEWLINE>` line per record.

`mapper`, `add_counts` and `reducer` are plain functions, so PySpark can run them unchanged
(`impl.l6_bigdata.rdd`). Words are `\\w+` runs (Unicode letters, digits, underscore), lower-cased.
"""
from __future__ import annotations

import functools
import heapq
import itertools
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from impl.checks import as_bool, as_int, as_instance, as_str

__all__ = ["WORD", "MAX_TASKS", "MAX_COUNT", "ShuffleStats", "mapper", "add_counts", "reducer", "combine", "partition",
           "split", "word_count"]

WORD = re.compile(r"\w+")
MAX_TASKS = 1024  # mappers or reducers in one job: far beyond the course's 8, short of a typo like 10**9
MAX_COUNT = 2**53  # a word's partial count: more tokens than any corpus holds, and still exact as a float


def mapper(line: str) -> Iterator[tuple[str, int]]:
    """(word, 1) for every word of `line`, lower-cased, in order (checked now, produced lazily)."""
    as_instance(line, "line", str)
    return ((match.group(0).lower(), 1) for match in WORD.finditer(line))


def add_counts(a: int, b: int) -> int:
    """The reducer's associative, commutative core: two partial counts of one word."""
    return as_int(a, "a", minimum=0, maximum=MAX_COUNT) + as_int(b, "b", minimum=0, maximum=MAX_COUNT)


def reducer(word: str, counts: Iterable[int]) -> tuple[str, int]:
    """(word, total) from the partial counts of one word."""
    word = as_str(word, "word")
    if isinstance(counts, (str, bytes)) or not hasattr(counts, "__iter__"):
        raise TypeError(f"counts must be an iterable of ints, got {type(counts).__name__}")
    total = functools.reduce(add_counts, counts, 0)
    return word, total


def combine(records: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """A mapper's records summed per word (the combiner: `reducer` run map-side), in key order."""
    if isinstance(records, (str, bytes)) or not hasattr(records, "__iter__"):
        raise TypeError(f"records must be an iterable of (word, count) pairs, got {type(records).__name__}")
    totals: Counter = Counter()
    for word, count in records:
        totals[word] = add_counts(totals[word], count)
    return [reducer(word, [totals[word]]) for word in sorted(totals)]


def partition(word: str, n_reducers: int) -> int:
    """The reducer that owns `word`: CRC-32 of its UTF-8 bytes modulo `n_reducers`."""
    word = as_str(word, "word")
    n_reducers = as_int(n_reducers, "n_reducers", minimum=1, maximum=MAX_TASKS)
    return zlib.crc32(word.encode("utf-8")) % n_reducers


def split(lines: list[str], n_splits: int) -> list[list[str]]:
    """`lines` cut into `n_splits` contiguous input splits of near-equal size (some may be empty)."""
    lines = _lines(lines)
    n_splits = as_int(n_splits, "n_splits", minimum=1, maximum=MAX_TASKS)
    size, extra = divmod(len(lines), n_splits)
    bounds = [0]
    for k in range(n_splits):
        bounds.append(bounds[-1] + size + (k < extra))
    return [lines[a:b] for a, b in zip(bounds, bounds[1:])]


@dataclass
class ShuffleStats:
    """What crossed the network: records and streaming-format bytes, in total and per reducer."""

    records: int = 0
    bytes: int = 0
    records_per_reducer: list[int] = field(default_factory=list)
    bytes_per_reducer: list[int] = field(default_factory=list)
    map_output_records: int = 0  # records the mappers emitted, before any combiner


def word_count(lines: list[str], n_mappers: int = 1, n_reducers: int = 1,
               use_combiner: bool = False) -> tuple[dict[str, int], ShuffleStats]:
    """Run the job; return ({word: count}, shuffle statistics)."""
    lines = _lines(lines)
    n_mappers = as_int(n_mappers, "n_mappers", minimum=1, maximum=MAX_TASKS)
    n_reducers = as_int(n_reducers, "n_reducers", minimum=1, maximum=MAX_TASKS)
    use_combiner = as_bool(use_combiner, "use_combiner")
    stats = ShuffleStats(records_per_reducer=[0] * n_reducers, bytes_per_reducer=[0] * n_reducers)
    # Map side: each mapper writes one sorted spill per reducer, as Hadoop's map output is.
    spills: list[list[list[tuple[str, int]]]] = [[] for _ in range(n_reducers)]
    for chunk in split(lines, n_mappers):
        records = [record for line in chunk for record in mapper(line)]
        stats.map_output_records += len(records)
        if use_combiner:
            records = combine(records)
        buckets: list[list[tuple[str, int]]] = [[] for _ in range(n_reducers)]
        for word, count in records:
            buckets[partition(word, n_reducers)].append((word, count))
        for r, bucket in enumerate(buckets):
            size = sum(len(f"{word}\t{count}\n".encode("utf-8")) for word, count in bucket)
            stats.records += len(bucket)
            stats.bytes += size
            stats.records_per_reducer[r] += len(bucket)
            stats.bytes_per_reducer[r] += size
            spills[r].append(sorted(bucket))
    # Reduce side: merge the sorted spills, group equal keys, reduce each group.
    result: dict[str, int] = {}
    for r in range(n_reducers):
        merged = heapq.merge(*spills[r])
        for word, group in itertools.groupby(merged, key=lambda record: record[0]):
            key, total = reducer(word, (count for _, count in group))
            result[key] = total
    return result, stats


def _lines(lines) -> list[str]:
    if isinstance(lines, (str, bytes)) or not isinstance(lines, (list, tuple)):
        raise TypeError(f"lines must be a list of str, got {type(lines).__name__}")
    for k, line in enumerate(lines):
        if not isinstance(line, str):
            raise TypeError(f"lines[{k}] must be str, got {type(line).__name__}")
    return list(lines)
