"""Small text helpers shared by every HTML and Markdown rendering (drift pages, panels)."""

from __future__ import annotations

import html
from typing import Any


def esc(text: Any) -> str:
    """``text`` as HTML-escaped text (quotes included)."""
    return html.escape(str(text))


def fmt(v: Any, digits: int = 3) -> str:
    """A number for a table cell: ``-`` for None, scientific when tiny or huge.

    Parameters
    ----------
    v
        The value (floats are formatted, anything else goes through ``str``).
    digits
        Decimals of a fixed-point float.
    """
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != 0 and (abs(v) < 10 ** -digits or abs(v) >= 1e5):
            return f"{v:.2e}"
        return f"{v:.{digits}f}"
    return str(v)


def num(v: Any, spec: str = ".3g") -> str:
    """A number formatted with ``spec``, or an en dash for None."""
    return "–" if v is None else format(v, spec)
