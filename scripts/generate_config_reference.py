"""Writes docs/config_reference.md from the config dataclasses' field docstrings."""

from pathlib import Path

from mjx_myoassist.config import config_reference_markdown

if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "docs" / "config_reference.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(config_reference_markdown())
    print(f"wrote {out}")
