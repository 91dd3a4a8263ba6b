"""``%mlops parameters`` and ``%mlops export`` in a real IPython shell."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError

from .conftest import write_notebook


def test_parameters_and_export_magics(ip, project: Path) -> None:
    nb = write_notebook(project / "nb.ipynb", "lr = 0.1\nepochs = 3", "print(lr)", tag=False)
    result = ip.run_line_magic("mlops", f"parameters {nb}")
    assert result.changed and result.index == 1 and "lr: float = 0.1" in str(result)
    assert nbformat.read(str(nb), as_version=4).cells[1].metadata.tags == ["parameters"]
    exported = ip.run_line_magic("mlops", f"export {nb} --stage fit")
    assert exported.stage == "fit" and (project / "dvc.yaml").is_file()
    assert "fit:" in (project / "params.yaml").read_text()


def test_magic_errors_are_one_line(ip, project: Path) -> None:
    with pytest.raises(UsageError, match="Cannot tell which notebook"):
        ip.run_line_magic("mlops", "parameters")
    nb = write_notebook(project / "code.ipynb", None, "import os")
    with pytest.raises(UsageError, match="no code cell made only of literal assignments"):
        ip.run_line_magic("mlops", f"parameters {nb}")
