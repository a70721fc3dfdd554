"""MapReduce word count, Hadoop-streaming style: it equals a single-machine count for any number
of mappers and reducers, and a combiner shrinks the shuffle without changing the answer.

The reference count never touches the job's code: it scans the joined text character by character
(a word is a maximal run of characters that are alphanumeric or "_", which is what `\\w` means for
`str` patterns) or, on the Gutenberg corpus, filters NLTK's word-punct tokens.
"""
import re
from collections import Counter

import pytest
from hypothesis import given, strategies as st

from impl.data import gutenberg
from impl.l6_bigdata import mapreduce
from specs.l6_bigdata.corpora import expected_mapper_distinct, mapper_distinct, reference_count, zipf_corpus


TEXT = st.characters(blacklist_categories=("Cs",))  # any code point a str can hold, surrogates aside
WORDY = st.sampled_from(["the", "The", "THE", "état", "Straße", "ǅemal", "naïve", "x_1", "42", "ΣΑΣ", "東京"])
LINE = st.lists(st.one_of(WORDY, st.text(TEXT, max_size=6), st.sampled_from([" ", ", ", ".", "!?", "\t", "--"])),
                max_size=12).map("".join)


@pytest.mark.cpu
@given(lines=st.lists(LINE, max_size=200), n_mappers=st.integers(1, 8), n_reducers=st.integers(1, 8),
       order=st.randoms(use_true_random=False))
def test_wordcount(claim, lines, n_mappers, n_reducers, order):
    """For any corpus of up to 200 lines (mixed case, punctuation, any Unicode), M = 1..8 mappers
    and R = 1..8 reducers, the Hadoop-streaming-style job (mapper emits (word, 1), CRC-32 hash
    partition, per-reducer sort and group, reducer sums) returns exactly the single-machine count,
    and so does the same job on the lines in shuffled order. With a per-mapper combiner the result
    is unchanged and the shuffle carries exactly the sum over mappers of their distinct words
    (at most M x #distinct) instead of one record per token.

    Course: Lesson 6, Hadoop MapReduce (the word-count example).
    """
    expected = reference_count(lines)
    plain, plain_stats = mapreduce.word_count(lines, n_mappers, n_reducers)
    shuffled = list(lines)
    order.shuffle(shuffled)
    reordered, _ = mapreduce.word_count(shuffled, n_mappers, n_reducers)
    combined, combined_stats = mapreduce.word_count(lines, n_mappers, n_reducers, use_combiner=True)
    claim.expect("words_differing_from_reference", len(set(plain.items()) ^ set(expected.items())), "==", 0)
    claim.expect("words_differing_after_reorder", len(set(reordered.items()) ^ set(expected.items())), "==", 0)
    claim.expect("words_differing_with_combiner", len(set(combined.items()) ^ set(expected.items())), "==", 0)
    claim.expect("shuffled_minus_tokens", plain_stats.records - sum(expected.values()), "==", 0)
    claim.expect("combined_minus_mapper_distinct", combined_stats.records - sum(mapper_distinct(lines, n_mappers)),
                 "==", 0)
    claim.expect("combined_over_bound", combined_stats.records - n_mappers * len(expected), "<=", 0)
    claim.expect("records_per_reducer_sum", sum(plain_stats.records_per_reducer) - plain_stats.records, "==", 0)


@pytest.mark.cpu
def test_combiner_zipf(claim):
    """On a Zipf corpus of 100,000 tokens over a 2,000-word vocabulary (exponent 1.1, seed 0) with
    M = 4 mappers and R = 4 reducers, the combiner leaves the counts unchanged and makes each mapper
    send one record per distinct word of its split. A map task of 25,000 tokens is expected to hold
    1,717 distinct words (sum over words of 1 - (1 - p)^25,000), so the records shuffled fall
    14.56-fold (SD 0.06): the check is at least 14.2-fold, which a combiner that leaves even 3% more
    records fails (the catalog's at least 10-fold is checked too, but any combiner that sums per
    mapper meets it: 4 x 2,000 records at most is 12.5-fold). The shuffled bytes (streaming's
    `word<TAB>count` lines) fall at least 13.9-fold (expected 14.25: a combined count has more digits).

    Course: Lesson 6, Hadoop MapReduce (word count; a combiner cuts the shuffle).
    """
    t = claim.t
    lines = zipf_corpus(t["n_tokens"], t["vocabulary"], t["exponent"], 20, claim.use_seed(0))
    plain, plain_stats = mapreduce.word_count(lines, t["n_mappers"], t["n_reducers"])
    combined, combined_stats = mapreduce.word_count(lines, t["n_mappers"], t["n_reducers"], use_combiner=True)
    record_ratio = plain_stats.records / combined_stats.records
    expected_distinct, sd_distinct = expected_mapper_distinct(t["n_tokens"] // t["n_mappers"], t["vocabulary"],
                                                              t["exponent"])
    claim.record(tokens=plain_stats.map_output_records, distinct=len(plain), records_plain=plain_stats.records,
                 records_combined=combined_stats.records, bytes_plain=plain_stats.bytes,
                 bytes_combined=combined_stats.bytes, expected_distinct_per_mapper=expected_distinct,
                 sd_distinct_per_mapper=sd_distinct,
                 expected_record_ratio=t["n_tokens"] / (t["n_mappers"] * expected_distinct))
    claim.plot("Zipf corpus (10^5 tokens, M = 4): records shuffled", ["no combiner", "combiner"],
               {"records": [plain_stats.records, combined_stats.records]}, ylabel="records", kind="bar", logy=True)
    claim.expect("counts_equal_with_combiner", combined == plain, "==", True)
    claim.expect("counts_equal_reference", plain == dict(reference_count(lines)), "==", True)
    claim.expect("combined_minus_mapper_distinct",
                 combined_stats.records - sum(mapper_distinct(lines, t["n_mappers"])), "==", 0)
    claim.expect("shuffle_record_ratio", record_ratio, ">=", "min_record_ratio")
    claim.expect("shuffle_record_ratio_catalog", record_ratio, ">=", "catalog_min_record_ratio")
    claim.expect("shuffle_byte_ratio", plain_stats.bytes / combined_stats.bytes, ">=", "min_byte_ratio")


@pytest.mark.cpu
def test_gutenberg(claim):
    """On the real Project Gutenberg texts (NLTK's selection; quick profile: Austen's Emma, Moby
    Dick and Hamlet, full: all 15), the MapReduce job with M = 4 mappers and R = 3 reducers counts
    every word exactly as NLTK's word-punct tokenizer does (its word tokens, lower-cased) with and
    without a combiner; with it each mapper sends exactly one record per distinct word of its split,
    which cuts the shuffled records at least 10-fold (the catalog's factor; at least 20-fold in the
    full profile, where each mapper reads ~5 times as many tokens). The top words, the shuffle sizes
    and the reducers' loads are reported.

    Course: Lesson 6, Hadoop MapReduce (word count on a real corpus).
    """
    t = claim.t
    texts = gutenberg.texts()
    fileids = sorted(texts) if t["fileids"] == "all" else list(t["fileids"])
    lines = [line for fileid in fileids for line in texts[fileid].split("\n")]
    word = re.compile(r"\w+")
    expected = Counter(token.lower() for fileid in fileids for token in gutenberg.words(fileid)
                       if word.fullmatch(token))
    plain, plain_stats = mapreduce.word_count(lines, t["n_mappers"], t["n_reducers"])
    combined, combined_stats = mapreduce.word_count(lines, t["n_mappers"], t["n_reducers"], use_combiner=True)
    top = expected.most_common(20)
    claim.record(texts=fileids, lines=len(lines), tokens=plain_stats.map_output_records, distinct=len(expected),
                 top_words=top, records_plain=plain_stats.records, records_combined=combined_stats.records,
                 bytes_plain=plain_stats.bytes, bytes_combined=combined_stats.bytes,
                 reducer_records_plain=plain_stats.records_per_reducer,
                 reducer_records_combined=combined_stats.records_per_reducer)
    claim.plot("Gutenberg: the 20 most frequent words", [w for w, _ in top], {"count": [c for _, c in top]},
               xlabel="word", ylabel="occurrences", kind="bar")
    claim.plot("Shuffle size per reducer (M = 4, R = 3)", [f"reducer {r}" for r in range(t["n_reducers"])],
               {"no combiner (MB)": [b / 1e6 for b in plain_stats.bytes_per_reducer],
                "combiner (MB)": [b / 1e6 for b in combined_stats.bytes_per_reducer]},
               xlabel="reducer", ylabel="MB shuffled", kind="bar")
    claim.expect("words_differing_from_nltk", len(set(plain.items()) ^ set(expected.items())), "==", 0)
    claim.expect("words_differing_with_combiner", len(set(combined.items()) ^ set(expected.items())), "==", 0)
    claim.expect("combined_minus_mapper_distinct",
                 combined_stats.records - sum(mapper_distinct(lines, t["n_mappers"])), "==", 0)
    claim.expect("shuffle_record_ratio", plain_stats.records / combined_stats.records, ">=", "min_record_ratio")

