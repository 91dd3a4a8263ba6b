"""The pre-built MLflow store each test starts with equals what MLflow itself makes."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from nbmlops.config import load_config
from nbmlops.mlflow_gateway import client_for


def _definition(sql: str | None) -> list[str]:
    """A table's definition as its sorted lines: MLflow's batch migrations rebuild tables
    with their constraints in an order that varies from one process to the next."""
    return sorted(line.strip().rstrip(",") for line in (sql or "").splitlines())


def _shape(db: Path) -> tuple[list[tuple[str, list[str]]], list[tuple[str]], list[tuple[str, str]]]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = con.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
        tables = [(name, _definition(sql)) for name, sql in rows]
        version = con.execute("SELECT version_num FROM alembic_version").fetchall()
        exps = con.execute("SELECT name, artifact_location FROM experiments").fetchall()
    return tables, version, exps


@pytest.mark.fresh_store
def test_copied_store_is_what_mlflow_creates_in_the_project(
    project: Path, store_template: Path, tmp_path: Path
) -> None:
    import tests.conftest as support

    assert not (project / "mlflow.db").exists()
    client_for(load_config().tracking_uri).search_experiments()  # MLflow creates + migrates
    made = _shape(project / "mlflow.db")
    elsewhere = tmp_path / "copy"
    elsewhere.mkdir()
    (project / "mlflow.db").rename(elsewhere / "made.db")
    copied = _shape(support.copy_store(store_template, project))
    assert copied == made
    assert copied[2] == [("Default", str(project / "mlruns" / "0"))]


def test_every_project_starts_with_the_copied_store(project: Path) -> None:
    client = client_for(load_config().tracking_uri)
    assert [e.name for e in client.search_experiments()] == ["Default"]
    assert (project / "mlflow.db").is_file()
