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


def test_magic_traits_are_the_config_settings() -> None:
    from nbmlops.config import help_text, is_bool_key
    from nbmlops.magics import MLOps

    traits = MLOps.class_traits(config=True)
    assert sorted(traits) == sorted(KEYS)
    for key, trait in traits.items():
        assert trait.help == help_text(key) and trait.help
        assert type(trait).__name__ == ("Bool" if is_bool_key(key) else "Unicode")


def test_init_snapshot_dir_reaches_snapshots_pipelines_and_drift(dvc_project: Path) -> None:
    """nbmlops.init(snapshot_dir=...) used to reach tracking only (issue 10's bug)."""
    import nbformat
    import pandas as pd

    import nbmlops
    from nbmlops.drift import fit_reference

    cfg = nbmlops.init(snapshot_dir="snaps")
    assert cfg.snapshot_dir == "snaps" and load_config().snapshot_dir == "snaps"
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
    nbmlops.snapshot(df, name="train")
    assert (dvc_project / "snaps" / "train.parquet").is_file()
    assert not (dvc_project / "data" / "snapshots").exists()
    pd.testing.assert_frame_equal(nbmlops.load("train@1"), df)  # versioning reads it back
    assert fit_reference("train@1").n_rows == 4  # drift resolves it
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]})
    nb.cells = [params, nbformat.v4.new_code_cell("import nbmlops\ndf = nbmlops.load('train@1')")]
    nbformat.write(nb, dvc_project / "train.ipynb")
    result = nbmlops.export(dvc_project / "train.ipynb")  # pipelines depend on it
    assert "snaps/train.parquet" in result.stage_def["deps"]


def test_init_snapshot_dir_reaches_the_magics(ip, dvc_project: Path) -> None:
    import pandas as pd

    import nbmlops

    nbmlops.init(snapshot_dir="from_init")
    ip.user_ns["df"] = pd.DataFrame({"x": [1, 2, 3]})
    ip.run_line_magic("mlops", "snapshot df --name t")
    assert (dvc_project / "from_init" / "t.parquet").is_file()
    ip.run_line_magic("config", "MLOps.snapshot_dir = 'from_config'")  # %config wins over init
    ip.run_line_magic("mlops", "snapshot df --name t")
    assert (dvc_project / "from_config" / "t.parquet").is_file()
