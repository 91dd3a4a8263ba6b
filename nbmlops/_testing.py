"""Test helpers shared by the test suite (and usable by downstream users).

:class:`TestingShell` is jupysql's pattern: an ``InteractiveShell`` whose
``run_cell`` re-raises the cell's exception so tests see it, with history
kept in memory.
"""

from __future__ import annotations

from typing import Any

from IPython.core.interactiveshell import InteractiveShell


class TestingShell(InteractiveShell):
    """An IPython shell for tests: cell errors are raised, not printed."""

    __test__ = False  # not a pytest test class

    def run_cell(self, *args: Any, **kwargs: Any) -> Any:
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result

    @classmethod
    def preconfigured(cls) -> TestingShell:
        """One shell with in-memory history (avoids "too many open files")."""
        from traitlets.config import Config

        cfg = Config()
        cfg.HistoryManager.hist_file = ":memory:"
        return cls.instance(config=cfg)
