"""NLTK's Project Gutenberg selection (15 public-domain texts), read straight from `gutenberg.zip`.

API:  `texts() -> dict[fileid, str]` (decoded, line endings normalised to "\\n");
      `words(fileid) -> list[str]`: word-punct tokens, NLTK's `WordPunctTokenizer` rule;
      `encodings() -> dict[fileid, str]`: how each file was stored (utf-8 or latin-1).

Two files are Latin-1, not UTF-8, and moby_dick has CRLF line endings: each file is decoded as
UTF-8 when it is valid UTF-8, else as Latin-1, and "\\r\\n" becomes "\\n" (token counts do not change:
"\\r" is whitespace to the tokenizer). Stage `data_gutenberg` writes data/prepared/gutenberg.json.
"""
from __future__ import annotations

import json
import re
import zipfile
import io

from impl import paths
from impl.checks import as_bytes, as_str
from impl.data import prepared
from impl.data.fetch import RemoteFile

__all__ = [
    "PREPARED", "HOMEPAGE", "LICENCE", "REMOTE", "FILEIDS", "WORD_PUNCT", "tokenize", "decode", "unpack", "texts",
    "encodings", "words",
]

PREPARED = paths.PREPARED_DIR / "gutenberg.json"
HOMEPAGE = "https://www.nltk.org/nltk_data/"
LICENCE = "public domain (Project Gutenberg texts, as packaged by NLTK)"
REMOTE = RemoteFile(
    "nltk_data/corpora", "gutenberg.zip",
    ("https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/corpora/gutenberg.zip",),
    "5c638910fa1ac7a0294623950c5e932b421f2057eeedfbb7e8a200e6c77f0168",  # the zip as published
)
FILEIDS = (  # the texts in NLTK's gutenberg.zip (unpack reads whatever the verified zip holds)
    "austen-emma.txt", "austen-persuasion.txt", "austen-sense.txt", "bible-kjv.txt", "blake-poems.txt",
    "carroll-alice.txt", "chesterton-ball.txt", "chesterton-brown.txt", "chesterton-thursday.txt",
    "melville-moby_dick.txt", "milton-paradise.txt", "shakespeare-caesar.txt", "shakespeare-hamlet.txt",
    "shakespeare-macbeth.txt", "whitman-leaves.txt",
)
WORD_PUNCT = re.compile(r"\w+|[^\w\s]+")  # nltk.tokenize.WordPunctTokenizer's pattern


def tokenize(text: str) -> list[str]:
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return WORD_PUNCT.findall(text)


def decode(raw: bytes) -> tuple[str, str]:
    """(text with "\\n" line endings, encoding used): UTF-8 when valid, else Latin-1."""
    raw = as_bytes(raw, "raw")
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    return text.replace("\r\n", "\n"), encoding


def unpack(zip_bytes: bytes) -> dict[str, dict]:
    """fileid -> {text, encoding, crlf, bytes} for every .txt in the zip."""
    zip_bytes = as_bytes(zip_bytes, "zip_bytes", nonempty=True)
    if not zipfile.is_zipfile(io.BytesIO(zip_bytes)):
        raise ValueError("zip_bytes is not a zip archive")
    corpus = {}
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        for name in sorted(archive.namelist()):
            if name.endswith(".txt"):
                raw = archive.read(name)
                text, encoding = decode(raw)
                corpus[name.rsplit("/", 1)[-1]] = {
                    "text": text, "encoding": encoding, "crlf": b"\r\n" in raw, "bytes": len(raw),
                }
    return corpus


def _corpus() -> dict[str, dict]:
    from impl.pipeline import artifacts

    path = artifacts.require(paths.relative(PREPARED))
    return json.loads(prepared.load_bytes(path, "Gutenberg corpus").decode("utf-8"))


def texts() -> dict[str, str]:
    return {fileid: entry["text"] for fileid, entry in _corpus().items()}


def encodings() -> dict[str, str]:
    return {fileid: entry["encoding"] for fileid, entry in _corpus().items()}


def words(fileid: str) -> list[str]:
    fileid = as_str(fileid, "fileid", choices=FILEIDS)  # checked before the corpus is loaded
    corpus = _corpus()
    if fileid not in corpus:
        raise ValueError(f"fileid must be one of {sorted(corpus)}, got {fileid!r}")
    return tokenize(corpus[fileid]["text"])
