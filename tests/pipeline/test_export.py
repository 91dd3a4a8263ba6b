"""Export to DVC (pure part): the stage, params.yaml sections, snapshot deps, merging."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nbmlops.exceptions import PipelineError
from nbmlops.pipeline.export import export, snapshot_names

from .conftest import write_notebook


def test_train_stage(train_nb: Path, project: Path) -> None:
    result = export(train_nb)
    stage = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]["train"]
    assert stage["cmd"] == (  # values come from params.yaml, never from the command line
        "nbmlops run notebooks/train.ipynb -f params.yaml:train "
        "-o outputs/train/train.ipynb --no-progress")
    assert stage["deps"] == ["notebooks/train.ipynb"]
    assert stage["params"] == ["train.C", "train.max_iter", "train.seed", "train.n_samples"]
    assert stage["outs"] == ["outputs/train/model.joblib",
                             {"outputs/train/train.ipynb": {"cache": False}}]
    assert stage["metrics"] == [{"outputs/train/metrics.json": {"cache": False}}]
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params == {"train": {"C": 1.0, "max_iter": 200, "seed": 0, "n_samples": 600}}
    assert (project / "outputs" / "train").is_dir()  # output folder created
    assert result.created and "dvc repro" in str(result)


def test_existing_stages_and_params_are_updated_not_clobbered(train_nb: Path,
                                                               project: Path) -> None:
    (project / "params.yaml").write_text(
        "# project parameters\nprep:\n  rows: 10  # keep\ntrain:\n  C: 0.25  # tuned\n"
        "  stale: 1\n")
    (project / "dvc.yaml").write_text(
        "stages:\n  prep:\n    cmd: python prep.py\n    outs: [data/x.csv]\n"
        "  train:\n    cmd: old\n    desc: the model  # mine\n    frozen: false\n")
    result = export(train_nb)
    assert not result.created
    params_text = (project / "params.yaml").read_text()
    assert "# project parameters" in params_text and "# tuned" in params_text
    params = yaml.safe_load(params_text)
    assert params["prep"] == {"rows": 10}
    assert params["train"] == {"C": 0.25, "max_iter": 200, "seed": 0, "n_samples": 600}
    dvc = yaml.safe_load((project / "dvc.yaml").read_text())
    assert dvc["stages"]["prep"] == {"cmd": "python prep.py", "outs": ["data/x.csv"]}
    train = dvc["stages"]["train"]
    assert train["desc"] == "the model" and train["frozen"] is False
    assert train["cmd"].startswith("nbmlops run notebooks/train.ipynb")
    # running it again gives the same files
    before = (project / "dvc.yaml").read_text(), params_text
    export(train_nb)
    assert ((project / "dvc.yaml").read_text(), (project / "params.yaml").read_text()) == before


def test_snapshot_deps_found_by_ast(project: Path) -> None:
    nb = write_notebook(
        project / "nb" / "fit.ipynb",
        'alpha = 0.5\nlabels = ["a", "b"]\nnote = ""\nsrc = "data/raw.csv"  # dep: raw input',
        "%load_ext nbmlops",
        "%mlops load train@2\n%mlops load --help",
        'import nbmlops\ndf = nbmlops.load("features", version=3)',
        'from nbmlops import load\nref = load("reference@1")\nother.load("not_ours")',
        'x = nbmlops.snapshot.api.load(name="deep")\nprint("nbmlops.load(\'in_a_string\')")',
    )
    import json

    assert snapshot_names(json.loads(nb.read_text())) == [
        "train", "features", "reference", "deep"]
    result = export(nb, stage="fit")
    stage = result.stage_def
    assert stage["deps"] == ["nb/fit.ipynb", "data/raw.csv", "data/snapshots/train.parquet",
                             "data/snapshots/features.parquet",
                             "data/snapshots/reference.parquet", "data/snapshots/deep.parquet"]
    # every value comes from the file (no value is parsed by a shell)
    assert "-f params.yaml:fit" in stage["cmd"] and "-p " not in stage["cmd"]
    assert stage["outs"] == [{"outputs/fit/fit.ipynb": {"cache": False}}]
    assert "metrics" not in yaml.safe_load((project / "dvc.yaml").read_text())["stages"]["fit"]


def test_export_refuses_untagged_and_outside_notebooks(project: Path, tmp_path: Path) -> None:
    nb = write_notebook(project / "nb.ipynb", "a = 1", "print(a)", tag=False)
    with pytest.raises(PipelineError, match="nbmlops pipeline init"):
        export(nb)
    outside = write_notebook(tmp_path / "elsewhere.ipynb", "a = 1", "print(a)")
    with pytest.raises(PipelineError, match="not inside the project"):
        export(outside)
    (project / "dvc.yaml").write_text("- just\n- a list\n")
    tagged = write_notebook(project / "ok.ipynb", "a = 1")
    with pytest.raises(PipelineError, match="must be a YAML mapping"):
        export(tagged)
