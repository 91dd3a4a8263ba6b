"""Fixtures of the tracking tests: a client on the test's own SQLite store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def client(project: Path) -> Any:
    """An MlflowClient on the project's embedded store (``mlflow.db``)."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
