"""Turn a declarative plot spec (from `claim.plot`) into PNG bytes with matplotlib.

The PNG is reduced to a 64-colour palette (a plot uses a handful of colours plus antialiasing
shades): under a third of the bytes, so the self-contained index.html stays light. Same spec, same bytes.
"""
from __future__ import annotations

import io
import re
from typing import Any


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def render_png(spec: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    try:
        x = spec["x"]
        series = spec["series"]
        if spec["kind"] == "bar":
            width = 0.8 / max(len(series), 1)
            positions = range(len(x))
            for i, (label, values) in enumerate(series.items()):
                ax.bar([p + i * width for p in positions], values, width=width, label=label)
            ax.set_xticks([p + width * (len(series) - 1) / 2 for p in positions])
            ax.set_xticklabels([str(v) for v in x], rotation=20 if len(x) > 4 else 0)
        else:
            styles = ("-", "--", ":", "-.")  # coinciding series stay visible
            for i, (label, values) in enumerate(series.items()):
                if spec["kind"] == "scatter":
                    ax.scatter(x, values, s=10, label=label)
                else:
                    ax.plot(x, values, linestyle=styles[i % len(styles)], marker="o" if len(x) <= 30 else None,
                            markersize=3, label=label)
        if spec.get("hline") is not None:
            ax.axhline(spec["hline"], color="grey", linestyle="--", linewidth=1)
        if spec.get("logx"):
            ax.set_xscale("log")
        if spec.get("logy"):
            ax.set_yscale("log")
        ax.set_title(spec["title"], fontsize=10)
        ax.set_xlabel(spec.get("xlabel", ""))
        ax.set_ylabel(spec.get("ylabel", ""))
        ax.grid(alpha=0.3)
        if len(series) > 1 or spec["kind"] == "bar":
            ax.legend(fontsize=8)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return palette_png(buffer.getvalue())
    finally:
        plt.close(fig)


PALETTE_COLOURS = 64  # plots stay crisp; 256 colours cost a quarter more bytes


def palette_png(png: bytes) -> bytes:
    """The same image as an optimised palette PNG (no metadata, so no date or version is embedded)."""
    from PIL import Image

    if not isinstance(png, (bytes, bytearray)):
        raise TypeError(f"png must be bytes, got {type(png).__name__}")
    with Image.open(io.BytesIO(png)) as image:
        reduced = image.convert("RGB").quantize(colors=PALETTE_COLOURS)
    out = io.BytesIO()
    reduced.save(out, format="PNG", optimize=True)
    return out.getvalue()
