"""``%%mlops run --register``, ``%mlops validate`` and ``%mlops models`` in a real IPython shell."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from nbmlops.config import load_config
from nbmlops.mlflow_gateway import registry as gw
from nbmlops.registry import promote


@pytest.mark.slow
def test_register_from_a_cell_then_validate_and_list(ip: Any, capsys: pytest.CaptureFixture[str],
                                                     train_frame: pd.DataFrame,
                                                     holdout_frame: pd.DataFrame) -> None:
    ip.user_ns.update(train=train_frame, hold=holdout_frame)
    ip.run_cell("from tests.registry.conftest import fit")
    ip.run_cell_magic("mlops", "run --name base --no-autolog --register fraud:model",
                      "model = fit('base', train)")
    assert "registered fraud v1 (@challenger)" in capsys.readouterr().out
    promote("fraud", "1", approver="risk-lead")
    # the autologged model of the cell (sklearn autolog is on by default)
    ip.run_cell_magic("mlops", "run --name good --register fraud", "model = fit('good', train)")
    assert "registered fraud v2 (@challenger)" in capsys.readouterr().out
    info = gw.version(gw.client(load_config().tracking_uri), "fraud", "2")
    assert info is not None and info.source.startswith("models:/m-")  # the autologged model

    ip.run_line_magic("mlops", "validate fraud@challenger --data hold --target is_fraud "
                               "--slices merchant --n-boot 50")
    assert "PASS: fraud v2 vs v1 on hold" in capsys.readouterr().out
    ip.run_line_magic("mlops", "models fraud")
    out = capsys.readouterr().out
    assert "pass vs v1 on hold" in out and "@champion by risk-lead" in out


@pytest.mark.slow
def test_magic_errors_are_one_line_usage_errors(ip: Any) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="unknown model 'nope'"):
        ip.run_line_magic("mlops", "models nope")
