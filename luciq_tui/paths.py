"""Where Luciq's packaged files live, in a checkout and in an installed wheel alike."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """The folder of `.tcss` files: `styles/` beside the package in a checkout, or the copy
    the wheel carries inside the package."""
    for candidate in (_PACKAGE.parent / "styles", _PACKAGE / "styles"):
        if (candidate / "luciq.tcss").exists():
            return candidate
    raise FileNotFoundError("Luciq's styles folder is missing from this installation")
