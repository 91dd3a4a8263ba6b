"""Serving settings that are wrong stop at start with one line naming the flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbmlops.mlflow_gateway.scoring import ServingError
from nbmlops.serving import ServeOptions
from tests.serving.conftest import uri_of


@pytest.mark.parametrize("canary", ["challenger", "challenger=0", "challenger=1.5", "=0.1",
                                    "challenger=lots"])
def test_canary_needs_alias_and_share(tmp_path: Path, canary: str) -> None:
    with pytest.raises(ServingError, match=r"--canary .*expected ALIAS=SHARE"):
        ServeOptions("fraud@champion", "sqlite:///x.db", tmp_path, canary=canary)


def test_canary_refs_and_labels_folder(tmp_path: Path) -> None:
    opts = ServeOptions("fraud@champion", "sqlite:///x.db", tmp_path / "logs" / "predictions",
                        canary="challenger=0.25", shadow="other@x")
    assert opts.refs() == {"primary": "fraud@champion", "canary": "fraud@challenger",
                           "shadow": "other@x"}
    assert opts.canary_share == 0.25
    assert opts.labels_dir == (tmp_path / "logs" / "labels").absolute()
    with pytest.raises(ServingError, match="--canary-key needs --canary"):
        ServeOptions("fraud@champion", "sqlite:///x.db", tmp_path, canary_key="merchant")


@pytest.mark.slow
def test_canary_key_must_be_an_input_column(registry: Path, tmp_path: Path) -> None:
    from nbmlops.serving import Service

    opts = ServeOptions("fraud@champion", uri_of(registry), tmp_path / "log",
                        canary="challenger=0.5", canary_key="zip",
                        audit_log=tmp_path / "audit.jsonl")
    with pytest.raises(ServingError, match=r"--canary-key 'zip' is not an input column of "
                                           r"fraud \(amount, count, merchant\)"):
        Service(opts)
