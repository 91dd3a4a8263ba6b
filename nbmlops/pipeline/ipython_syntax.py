"""IPython cell syntax as plain Python, without importing IPython.

Notebook cells may hold ``%magic`` / ``!shell`` lines, ``x = %magic``,
``obj?`` and ``%%cell`` magics, which :func:`ast.parse` refuses. To read such a
cell with the AST (the DVC export looks for the snapshots a notebook loads),
:func:`to_python` rewrites those lines into the calls IPython itself would run
(``get_ipython().run_line_magic('mlops', 'load x@2')``), so the code is found
the same way as after IPython's own input transformation, but the pipeline
area never imports IPython.

Only lines Python cannot parse are rewritten (found from the parser's own
error line), so text inside strings that merely looks like a magic stays as
it is.
"""

from __future__ import annotations

import ast
import re
import textwrap

#: ``x = %magic args`` / ``a, b = !cmd``: the target, the escape, the rest
_ASSIGN = re.compile(r"^([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*([%!])(.*)$")
_AUTOCALL = ("/", ",", ";")


def to_python(source: str) -> str | None:
    """``source`` of an IPython cell as Python, or ``None`` when it is not Python.

    Parameters
    ----------
    source
        The cell's source.

    Returns
    -------
    str or None
        Python that :func:`ast.parse` accepts: line magics, shell escapes and
        help requests as ``get_ipython()`` calls, a cell magic as one
        ``get_ipython().run_cell_magic(name, line, body)`` call (its body is
        the magic's input, not code of this cell); ``None`` for a cell that
        stays invalid (a real syntax error).
    """
    lines = textwrap.dedent(source).splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and lines[0].startswith("%%"):
        name, _, line = lines[0][2:].strip().partition(" ")
        body = "".join(f"{text}\n" for text in lines[1:])
        return f"get_ipython().run_cell_magic({name!r}, {line.strip()!r}, {body!r})\n"
    for _ in range(len(lines) + 1):
        code = "\n".join(lines) + "\n"
        try:
            ast.parse(code)
        except SyntaxError as exc:
            index = (exc.lineno or 0) - 1
            if not 0 <= index < len(lines) or not _rewrite(lines, index):
                return None
        else:
            return code
    return None  # pragma: no cover - each round rewrites one more line


def _rewrite(lines: list[str], index: int) -> bool:
    """Replace the IPython line at ``index`` by Python in place; ``False`` if it is none."""
    while lines[index].endswith("\\") and index + 1 < len(lines):  # continued lines
        lines[index] = lines[index][:-1] + " " + lines.pop(index + 1)
    line = lines[index]
    indent = line[: len(line) - len(line.lstrip())]
    text = line.strip()
    assign = _ASSIGN.match(text)
    python: str | None
    if assign:
        target, escape, rest = assign.groups()
        call = (f"get_ipython().getoutput({rest.strip()!r})" if escape == "!"
                else _escaped(escape + rest.strip()))
        python = f"{target} = {call}"
    elif text.startswith(_AUTOCALL):
        python = "pass"  # `/f x` -> f(x): a call IPython makes; no code of ours to read
    else:
        python = _escaped(text) or _help(text)
    if python is None:
        return False
    lines[index] = indent + python
    return True


def _escaped(text: str) -> str | None:
    """``%name args`` / ``!cmd`` / ``!!cmd`` as the ``get_ipython()`` call IPython makes."""
    if text.startswith("%"):
        name, _, args = text[1:].rstrip().partition(" ")
        return f"get_ipython().run_line_magic({name!r}, {args!r})"
    if text.startswith("!!"):
        return f"get_ipython().getoutput({text[2:]!r})"
    if text.startswith("!"):
        return f"get_ipython().system({text[1:]!r})"
    return None


def _help(text: str) -> str | None:
    """``obj?`` / ``?obj`` / ``obj??`` as IPython's ``pinfo`` / ``pinfo2`` magic call."""
    if not (text.startswith("?") or text.endswith("?")):
        return None
    name = text.strip("?").strip()
    magic = "pinfo2" if text.startswith("??") or text.endswith("??") else "pinfo"
    return f"get_ipython().run_line_magic({magic!r}, {name!r})"
