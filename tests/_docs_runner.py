"""Run one docs page's blocks in order in ONE interpreter (used by test_docs_examples.py).

``python tests/_docs_runner.py BLOCKS.json``: each block is ``{"lang", "code"}``.
Python blocks run in one IPython shell (magics work, names carry over), shell
blocks in ``bash -e`` in the working directory. Before each block a marker
line ``@@block <i>@@`` goes to stdout; a failing block prints ``@@failed <i>@@``
and the runner exits 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from pathlib import Path


def main(path: str) -> int:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    cfg = Config()
    cfg.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=cfg)
    blocks = json.loads(Path(path).read_text(encoding="utf-8"))
    for i, block in enumerate(blocks):
        print(f"@@block {i}@@", flush=True)
        ok = True
        if block["lang"] == "python":
            result = shell.run_cell(block["code"], store_history=True)
            ok = result.success
            if not ok:
                err = result.error_in_exec or result.error_before_exec
                traceback.print_exception(type(err), err, err.__traceback__ if err else None)
        else:
            done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block["code"]],
                                  stdout=sys.stdout, stderr=sys.stderr, check=False)
            ok = done.returncode == block.get("exit", 0)
            if not ok:
                print(f"exit code {done.returncode}, expected {block.get('exit', 0)}",
                      file=sys.stderr)
        sys.stdout.flush()
        if not ok:
            print(f"@@failed {i}@@", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
