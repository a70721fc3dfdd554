"""Corpora and the independent word count the MapReduce and Spark claims compare against."""
from collections import Counter

import numpy as np

from impl.l6_bigdata import mapreduce


def reference_count(lines: list[str]) -> Counter:
    """Counter of lower-cased maximal runs of word characters (isalnum or "_") in the joined text."""
    counts: Counter = Counter()
    word: list[str] = []
    for ch in "\n".join(lines) + "\n":
        if ch.isalnum() or ch == "_":
            word.append(ch)
        elif word:
            counts["".join(word).lower()] += 1
            word = []
    return counts


def mapper_distinct(lines: list[str], n_mappers: int) -> list[int]:
    """Distinct words in each mapper's split: what a combiner can shrink its output to."""
    return [len(reference_count(chunk)) if chunk else 0 for chunk in mapreduce.split(lines, n_mappers)]


def zipf_probabilities(vocabulary: int, exponent: float) -> np.ndarray:
    """P(rank k) proportional to 1 / k**exponent, k = 1..vocabulary."""
    weights = 1.0 / np.arange(1, vocabulary + 1) ** exponent
    return weights / weights.sum()


def expected_mapper_distinct(tokens_per_mapper: int, vocabulary: int, exponent: float) -> tuple[float, float]:
    """(mean, SD) of the distinct words among `tokens_per_mapper` independent Zipf draws: word k is
    present with probability q_k = 1 - (1 - p_k)^n, and presences are nearly independent (their
    covariances are negative, so the SD is an upper bound)."""
    present = 1.0 - (1.0 - zipf_probabilities(vocabulary, exponent)) ** tokens_per_mapper
    return float(present.sum()), float(np.sqrt(np.sum(present * (1.0 - present))))


def zipf_corpus(n_tokens: int, vocabulary: int, exponent: float, words_per_line: int, seed: int) -> list[str]:
    """Lines of words w0000.. drawn with P(rank k) proportional to 1 / k**exponent."""
    rng = np.random.default_rng(seed)
    ranks = rng.choice(vocabulary, size=n_tokens, p=zipf_probabilities(vocabulary, exponent))
    words = np.array([f"w{k:04d}" for k in range(vocabulary)])[ranks]
    return [" ".join(words[i:i + words_per_line]) for i in range(0, n_tokens, words_per_line)]
