import pytest

from impl.data import gutenberg


@pytest.mark.cpu
def test_token_counts(claim):
    """Word-punct tokenization (NLTK's WordPunctTokenizer rule) of the Gutenberg corpus gives
    192,427 tokens for Jane Austen's Emma and 260,819 for Moby Dick (the NLTK book's counts), with
    the two Latin-1 files decoded as Latin-1 and Moby Dick's CRLF line endings normalised.

    Course: Lesson 6, MapReduce word counts (the text corpus).
    """
    claim.expect("emma_tokens", len(gutenberg.words("austen-emma.txt")), "==", claim.t["emma_tokens"])
    claim.expect("moby_dick_tokens", len(gutenberg.words("melville-moby_dick.txt")), "==", claim.t["moby_dick_tokens"])
    encodings = gutenberg.encodings()
    claim.expect("latin1_files", sorted(f for f, e in encodings.items() if e == "latin-1"), "==", claim.t["latin1_files"])
    claim.expect("texts", len(encodings), "==", 15)
    claim.expect("crlf_left", sum("\r\n" in text for text in gutenberg.texts().values()), "==", 0)
