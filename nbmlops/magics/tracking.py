"""Tracking magics (placeholder until the tracking area lands)."""

from __future__ import annotations

from typing import Any


def on_load(magics: Any) -> None:
    """Hook run by ``%load_ext nbmlops``."""
