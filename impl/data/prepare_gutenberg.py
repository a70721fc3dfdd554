"""DVC stage `prepare_gutenberg`: verified gutenberg.zip -> data/prepared/gutenberg.json (+ .sha256 sidecar)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from impl.data import gutenberg, prepared
from impl.data.fetch import fetch_bytes
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS: dict = {}  # no knobs: it always prepares the whole verified dataset (seconds)


def run(knobs: dict, out_dir: Path) -> dict:
    corpus = gutenberg.unpack(fetch_bytes(gutenberg.REMOTE, progress=True))
    text = json.dumps(corpus, ensure_ascii=False, sort_keys=True)
    digest = prepared.save_bytes(Path(out_dir) / gutenberg.PREPARED.name, text.encode("utf-8"))
    latin1 = [fileid for fileid, entry in corpus.items() if entry["encoding"] != "utf-8"]
    return {"texts": len(corpus), "latin1_files": latin1, "sha256": digest}


main = stage_main(run, "data", None, out_dir=gutenberg.PREPARED.parent)

if __name__ == "__main__":
    sys.exit(main())
