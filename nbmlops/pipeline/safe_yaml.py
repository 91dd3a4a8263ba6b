"""Reading parameter files a stranger may have written: bounded work, one-line errors.

A parameters file (``params.yaml``, ``-f FILE``) is checked before it is
built into Python objects: it must be UTF-8, nest at most :data:`MAX_DEPTH`
levels, and expand (aliases counted at their full size) to at most
:data:`MAX_NODES` nodes. The check walks YAML's event stream, which PyYAML
produces without recursion and without building anything, so a 100k-deep
file or a few hundred bytes of alias bomb (``&a [*b, *b, ...]``) cost
little memory and end in a :class:`~nbmlops.exceptions.ParameterError`
(exit 2) naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbmlops.exceptions import ParameterError

#: deepest nesting of lists/mappings a parameters file may use
MAX_DEPTH = 100
#: most nodes a file may expand to (every alias counted at its anchor's full size)
MAX_NODES = 2_000_000


def read_text(path: Path) -> str:
    """The file's text; a one-line error when it cannot be read or is not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParameterError(f"Cannot read parameters file {path}: {exc.strerror}.",
                             path=str(path)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"Parameters file {path} is not UTF-8 text (byte {exc.start}: "
                             f"{raw[exc.start:exc.start + 1]!r}).", path=str(path)) from None


def check_shape(text: str, path: Path) -> None:
    """Refuse text nested deeper than :data:`MAX_DEPTH` or expanding past :data:`MAX_NODES`."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    sizes: dict[str, int] = {}  # anchor -> expanded node count
    stack: list[tuple[str | None, int]] = []  # open collections: (anchor, nodes so far)
    total = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                stack.append((event.anchor, 1))
                total += 1
                if len(stack) > MAX_DEPTH:
                    raise ParameterError(f"Parameters file {path} nests deeper than "
                                         f"{MAX_DEPTH} levels.", path=str(path))
                continue
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, count = stack.pop()
                if anchor:
                    sizes[anchor] = count
            elif isinstance(event, yaml.AliasEvent):
                count = sizes.get(str(event.anchor), 1)
                total += count
            elif isinstance(event, yaml.ScalarEvent):
                count = 1
                total += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            else:
                continue
            if stack:
                anchor, so_far = stack[-1]
                stack[-1] = (anchor, so_far + count)
            if total > MAX_NODES:
                raise ParameterError(f"Parameters file {path} expands to more than "
                                     f"{MAX_NODES:,} values (YAML aliases); refusing to "
                                     "load it.", path=str(path))
    except yaml.YAMLError as exc:
        raise ParameterError(f"Parameters file {path} is not valid YAML: "
                             f"{_one_line(exc)}", path=str(path)) from None


def load(path: Path) -> Any:
    """The checked file's content (``yaml.safe_load``), or a one-line ParameterError."""
    import yaml

    text = read_text(path)
    check_shape(text, path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise ParameterError(f"Parameters file {path} is not valid YAML: "
                             f"{_one_line(exc)}", path=str(path)) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
