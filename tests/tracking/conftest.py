"""Fixtures of the tracking tests: a client on the test's own SQLite store, fresh caches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_tracking_session() -> Iterator[None]:
    """No experiment id, history or previous-run cache leaks from one test into the next."""
    from nbmlops.tracking.session import reset

    reset()
    yield
    reset()


@pytest.fixture
def client(project: Path) -> Any:
    """An MlflowClient on the project's embedded store (``mlflow.db``)."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
