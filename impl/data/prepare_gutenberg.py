"""DVC stage `data_gutenberg`: verified gutenberg.zip -> data/prepared/gutenberg.json (+ .sha256 sidecar)."""
from __future__ import annotations

import json

from impl import paths
from impl.data import gutenberg, prepared
from impl.data.fetch import fetch_bytes


def main() -> None:
    corpus = gutenberg.unpack(fetch_bytes(gutenberg.REMOTE, progress=True))
    digest = prepared.save_bytes(gutenberg.PREPARED, json.dumps(corpus, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    latin1 = [fileid for fileid, entry in corpus.items() if entry["encoding"] != "utf-8"]
    print(f"{gutenberg.PREPARED.relative_to(paths.ROOT)}: {len(corpus)} texts, latin-1: {latin1}, sha256 {digest[:16]}...")


if __name__ == "__main__":
    main()
