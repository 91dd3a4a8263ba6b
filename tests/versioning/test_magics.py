"""%mlops snapshot / snapshots / load / diff through a real IPython shell, and the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from IPython.core.error import UsageError
from pandas.testing import assert_frame_equal

from nbmlops.cli import main


def test_magics_snapshot_list_load_diff(ip, git_project, capsys):
    ip.run_cell("import pandas as pd\n"
                "train_df = pd.DataFrame({'id': [1, 2, 3], 'y': [.1, .2, .3]})")
    v1 = ip.run_line_magic("mlops", 'snapshot train_df --name train -m "after dedup"')
    assert (v1.name, v1.version, v1.message) == ("train", 1, "after dedup")
    ip.run_cell("train_df.loc[1, 'y'] = 9.0")
    ip.run_line_magic("mlops", "snapshot train_df -n train")
    listing = ip.run_line_magic("mlops", "snapshots train")
    assert [v.version for v in listing] == [1, 2]
    ip.run_cell("old = %mlops load train@1")
    assert_frame_equal(ip.user_ns["old"], pd.DataFrame({"id": [1, 2, 3], "y": [.1, .2, .3]}))
    d = ip.run_line_magic("mlops", "diff train@1 train@2 --key id")
    assert d.changed_rows == 1 and "1 changed" in str(d)
    ip.run_line_magic("mlops", "snapshots")
    with pytest.raises(UsageError, match=r"No variable 'nope'.*train_df"):
        ip.run_line_magic("mlops", "snapshot nope --name x")
    with pytest.raises(UsageError, match=r"Versions: train@1, train@2\."):
        ip.run_line_magic("mlops", "load train@5")
    ip.run_line_magic("mlops", "snapshot --help")
    assert "--commit" in capsys.readouterr().out


def test_cli_snapshot_file_and_list(git_project):
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_csv(git_project / "data.csv", index=False)
    pd.DataFrame({"a": [3]}).to_parquet(git_project / "more.parquet")
    runner = CliRunner()
    out = runner.invoke(main, ["snapshot", "data.csv", "--name", "raw", "-m", "from csv"])
    assert out.exit_code == 0, out.output
    assert "raw v1" in out.output and "2 rows" in out.output
    out = runner.invoke(main, ["snapshot", "more.parquet", "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["name"] == "more"
    out = runner.invoke(main, ["snapshots"])
    assert "raw@1" in out.output and "more@1" in out.output
    out = runner.invoke(main, ["snapshots", "nope"])
    assert out.exit_code == 2 and "Snapshots: more, raw" in out.output
    (git_project / "x.json").write_text("1")
    assert runner.invoke(main, ["snapshot", "x.json"]).exit_code == 2
