"""Tag a notebook's parameters cell in place (``nbmlops pipeline init``, ``%mlops parameters``).

The cell tagged is the one already tagged, else the first code cell made only
of assignments of literals; only that cell's tags change in the file (an
nbformat round-trip, everything else byte-identical).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbmlops.exceptions import PipelineError
from nbmlops.fileio import atomic_write
from nbmlops.pipeline.notebook import TAG, cell_source, tagged_index
from nbmlops.pipeline.parameters import Parameter, is_literal, parse_parameters


def is_literal_assignments(source: str) -> bool:
    """True when ``source`` is one or more assignments of literals to names."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    if not tree.body:
        return False
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            return False
        if not all(isinstance(t, ast.Name) for t in targets) or not is_literal(value):
            return False
    return True


def candidate_index(nb: Any) -> int | None:
    """Index of the first code cell made only of literal assignments."""
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "code" and is_literal_assignments(cell_source(cell)):
            return i
    return None


@dataclass
class TagResult:
    """What :func:`tag_parameters_cell` did."""

    path: str
    index: int
    changed: bool
    parameters: dict[str, Parameter]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return {"path": self.path, "index": self.index, "changed": self.changed,
                "parameters": [p.to_dict() for p in self.parameters.values()]}

    def __str__(self) -> str:
        what = "tagged" if self.changed else "already tagged"
        rows = "\n".join(
            f"  {p.name}: {p.type}{' | None' if p.optional and p.type != 'any' else ''}"
            f" = {p.default!r}" + (f"  [{p.role}]" if p.role else "")
            + (f"  # {p.help}" if p.help else "")
            for p in self.parameters.values()
        )
        return f"{self.path}: cell {self.index} {what} 'parameters'\n{rows}"

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"


def tag_parameters_cell(path: str | Path, index: int | None = None) -> TagResult:
    """Tag a notebook's parameters cell in place, changing nothing else.

    Parameters
    ----------
    path
        The ``.ipynb`` file.
    index
        The cell to tag; default: the cell already tagged, else the first
        code cell made only of literal assignments.

    Returns
    -------
    TagResult
        The cell and the parameters it declares.

    Raises
    ------
    PipelineError
        When the notebook cannot be read, has no cell of literal assignments,
        or ``index`` is not such a cell.
    """
    import nbformat

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    except (OSError, ValueError) as exc:
        raise PipelineError(f"Cannot read notebook {file}: {exc}", path=str(file)) from None
    tagged = tagged_index(nb)
    if index is None:
        index = tagged if tagged is not None else candidate_index(nb)
    if index is None:
        raise PipelineError(
            f"{file} has no code cell made only of literal assignments (like `C = 1.0`) to "
            "tag as 'parameters'; write one at the top.", path=str(file))
    if not 0 <= index < len(nb.cells) or nb.cells[index].cell_type != "code":
        raise PipelineError(f"Cell {index} of {file} is not a code cell.", path=str(file))
    params = parse_parameters(cell_source(nb.cells[index]), where=f"{file} cell {index}")
    if tagged == index:
        return TagResult(str(file), index, False, params)
    if tagged is not None:  # move the tag
        tags = nb.cells[tagged].metadata["tags"]
        tags.remove(TAG)
        if not tags:
            del nb.cells[tagged].metadata["tags"]
    nb.cells[index].metadata.setdefault("tags", []).append(TAG)
    out = nbformat.writes(nb, version=nbformat.NO_CONVERT)
    if text.endswith("\n") and not out.endswith("\n"):  # pragma: no cover - nbformat adds it
        out += "\n"
    atomic_write(file, out, newline="")
    return TagResult(str(file), index, True, params)
