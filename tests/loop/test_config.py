"""The loop file: sections, defaults, unknown keys named, pyproject fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbmlops.loop import LoopError, load_loop_config
from tests.loop._world import LOOP_YAML


def test_the_issue_example_reads_with_defaults(project: Path) -> None:
    Path("mlops.yaml").write_text(LOOP_YAML)
    cfg = load_loop_config()
    assert cfg.model == "fraud" and cfg.snapshot_name == "fraud-train"
    assert cfg.trigger.on == ("drift",)  # YAML 1.1's `on:` -> True is read as the key
    assert cfg.monitor.window == "1D" and cfg.monitor.time_column == "timestamp"
    assert cfg.validate.slices == ("merchant",) and cfg.promote.require_approval is True
    assert cfg.train.data_parameter == "data" and cfg.train.params == {"C": 1.0}


@pytest.mark.parametrize(("text", "named"), [
    (LOOP_YAML + "retrain_every: 1D\n", "retrain_every"),
    (LOOP_YAML.replace("window: 1D", "windw: 1D"), "windw"),
    (LOOP_YAML.replace("trigger: {on: [drift]}", "trigger: {on: [calendar]}"), "calendar"),
    (LOOP_YAML.replace("model: fraud\n", ""), "model"),
    (LOOP_YAML + "alert: slack\n", "webhook:URL"),
])
def test_bad_loop_files_name_the_key(project: Path, text: str, named: str) -> None:
    Path("mlops.yaml").write_text(text)
    with pytest.raises(LoopError, match=named) as err:
        load_loop_config()
    assert err.value.exit_code == 2


def test_pyproject_table_and_missing_file(project: Path) -> None:
    with pytest.raises(LoopError, match="no loop declared"):
        load_loop_config()
    with pytest.raises(LoopError, match="no loop file"):
        load_loop_config("other.yaml")
    Path("pyproject.toml").write_text(
        "[tool.nbmlops.loop]\nmodel = 'm'\n"
        "monitor = {log = 'logs/p', reference = 'train@1'}\n"
        "train = {notebook = 'nb.ipynb'}\nvalidate = {target = 'y', holdout_window = '3D'}\n")
    cfg = load_loop_config()
    assert cfg.model == "m" and cfg.validate.holdout_window == "3D"
    assert cfg.promote.alias == "champion" and cfg.trigger.on == ("drift", "performance")
