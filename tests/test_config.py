from __future__ import annotations

from pathlib import Path

import pytest

from nbmlops.config import KEYS, find_project_root, load_config
from nbmlops.exceptions import ConfigError


def test_defaults_are_embedded_sqlite_at_project_root(project: Path) -> None:
    cfg = load_config()
    assert cfg.project_root == project.resolve()
    assert cfg.tracking_uri == f"sqlite:///{project.resolve() / 'mlflow.db'}"
    assert cfg.artifact_root == str(project.resolve() / "mlartifacts")
    assert cfg.experiment == project.name


def test_project_root_is_git_root(git_project: Path) -> None:
    sub = git_project / "notebooks" / "deep"
    sub.mkdir(parents=True)
    assert find_project_root(sub) == git_project.resolve()
    assert load_config(sub).project_root == git_project.resolve()


def test_precedence_pyproject_env_overrides(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.nbmlops]\nexperiment = "from-toml"\nautolog = false\n'
    )
    assert load_config().experiment == "from-toml"
    assert load_config().autolog is False
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-env")
    monkeypatch.setenv("NBMLOPS_AUTOLOG", "yes")
    assert load_config().experiment == "from-env"
    assert load_config().autolog is True
    assert load_config(experiment="explicit").experiment == "explicit"


def test_mlflow_tracking_uri_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert load_config().tracking_uri == "http://127.0.0.1:5999"


@pytest.mark.parametrize(
    ("where", "bad"),
    [("kwarg", "experimnt"), ("toml", "auto_log")],
)
def test_misspelled_key_names_valid_ones(project: Path, where: str, bad: str) -> None:
    if where == "toml":
        (project / "pyproject.toml").write_text(f"[tool.nbmlops]\n{bad} = true\n")
        with pytest.raises(ConfigError) as exc:
            load_config()
    else:
        with pytest.raises(ConfigError) as exc:
            load_config(**{bad: "x"})
    assert bad in str(exc.value)
    assert "Valid keys" in str(exc.value)
    assert all(k in str(exc.value) for k in KEYS)


def test_bad_bool_env_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBMLOPS_CAPTURE_GIT", "maybe")
    with pytest.raises(ConfigError, match="NBMLOPS_CAPTURE_GIT"):
        load_config()


def test_bad_toml_names_the_file(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.nbmlops\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml"):
        load_config()
