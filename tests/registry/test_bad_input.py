"""Each bad input of the issue: one clear error line, exit 2, nothing written to the registry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nbmlops.config import load_config
from nbmlops.mlflow_gateway import registry as gw
from tests.conftest import copy_store
from tests.registry.conftest import Broken, make_data, register_kinds


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, store_template: Path) -> Path:
    """A project with fraud v1 (@champion), v2 (@challenger) and broken v1."""
    import nbmlops
    from nbmlops.registry import promote, register

    root = tmp_path_factory.mktemp("shop")
    copy_store(store_template, root)
    cfg = load_config(root)
    train = make_data(3000, 1)
    register_kinds("fraud", ["base", "good"], cfg, train)
    promote("fraud", "1", approver="risk-lead", config=cfg)
    result = nbmlops.capture_run("pass", {}, config=cfg, name="broken", autolog=False)
    register("broken", result, model=Broken(), config=cfg)
    make_data(2000, 2).to_parquet(root / "holdout.parquet")
    make_data(2000, 2).assign(a="x").to_parquet(root / "wrong_dtype.parquet")
    return root


def _state(root: Path) -> Any:
    cl = gw.client(load_config(root).tracking_uri)
    return [(v.name, v.version, sorted(v.aliases), sorted(v.tags.items()))
            for name in gw.model_names(cl) for v in gw.versions(cl, name)]


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbmlops", "model", *args], cwd=root,
                          capture_output=True, text=True, timeout=600)


V = ["--data", "holdout.parquet", "--target", "is_fraud", "--n-boot", "20"]
CASES = {
    "unknown model": (["validate", "nope@challenger", *V], "unknown model 'nope'; registered "
                      "models: broken, fraud"),
    "unknown version": (["validate", "fraud/9", *V], "no version 9; its versions: 1, 2"),
    "unknown alias": (["validate", "fraud@staging", *V], "no alias @staging; its aliases: "
                      "@challenger (v2), @champion (v1)"),
    "holdout without target": (["validate", "fraud@challenger", "--data", "holdout.parquet",
                                "--target", "label"], "has no target column 'label'"),
    "absent slice column": (["validate", "fraud@challenger", *V, "--slices", "merchant,country"],
                            "slice column 'country' is not in the holdout"),
    "schema differs": (["validate", "fraud@challenger", "--data", "wrong_dtype.parquet",
                        "--target", "is_fraud"], "column 'a' is"),
    "model fails to predict": (["validate", "broken/1", "--against", "fraud/1", *V],
                               "broken v1 (@challenger) failed to predict on the holdout: "
                               "ValueError: feature matrix has NaN"),
    "candidate equals champion": (["validate", "fraud@champion", "--against", "fraud/1", *V],
                                  "candidate and champion are the same version"),
    "empty slice expression": (["validate", "fraud@challenger", *V, "--slices", "merchant,,"],
                               "empty slice expression"),
    "promote without validation": (["promote", "fraud", "2", "--approver", "risk-lead"],
                                   "no validation of fraud v2 against the current @champion"),
    "promote without approver": (["promote", "fraud", "2"], "needs an approver"),
    "force without reason": (["promote", "fraud", "2", "--approver", "x", "--force"],
                             "--force needs a reason"),
    "rollback with no earlier holder": (["rollback", "fraud"], "nothing to roll back to"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_and_the_registry_is_untouched(shop: Path,
                                                                     case: str) -> None:
    args, message = CASES[case]
    before = _state(shop)
    proc = _cli(shop, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr
    assert _state(shop) == before


def test_a_schema_mismatch_names_the_column_and_both_dtypes(shop: Path) -> None:
    from nbmlops.registry import RegistryError, validate

    frame = pd.read_parquet(shop / "wrong_dtype.parquet")
    with pytest.raises(RegistryError, match=r"column 'a' is (object|str) in the holdout but "
                                            r"fraud v\d \(@\w+\)'s signature says double"):
        validate("fraud@challenger", data=frame, target="is_fraud", config=load_config(shop),
                 record=False)
