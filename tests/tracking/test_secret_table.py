"""Secrets table: ≥40 planted credentials, none reaches MLflow; ≥10 look-alikes, none redacted.

One real ``%%mlops run`` in a git project whose notebook, uncommitted files,
kernel history, environment, output and ``--tags`` all carry planted secrets;
then every param, tag, metric and artifact file of the run is scanned.
A second test runs ``nbmlops run -p api_token ...`` for real (papermill kernel).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.conftest import git
from tests.tracking._helpers import all_runs

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example shape
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
PEM_BODY = "MIIEowIBAAKCAQEAplanted33pem"

#: (case, where it is planted, the line planted, the secret that must not reach MLflow)
PLANTED: list[tuple[str, str, str, str]] = [
    ("password", "cell", 'password = "Pw-planted-01x"', "Pw-planted-01x"),
    ("db_pass", "cell", 'db_pass = "planted02dbpass"', "planted02dbpass"),
    ("passphrase", "cell", 'passphrase = "planted03phrase"', "planted03phrase"),
    ("creds", "cell", 'creds = "planted04creds"', "planted04creds"),
    ("api_token", "cell", 'api_token = "planted05token"', "planted05token"),
    ("AWS_SECRET_ACCESS_KEY", "cell", 'AWS_SECRET_ACCESS_KEY = "planted06awssecret"',
     "planted06awssecret"),
    ("SECRET_KEY", "cell", "SECRET_KEY = 'planted07secretkey'", "planted07secretkey"),
    ("client_secret", "cell", 'client_secret = "planted08client"', "planted08client"),
    ("github_token", "cell", 'github_token = "planted09ghtok"', "planted09ghtok"),
    ("auth_header", "cell", 'auth_header = "planted10auth"', "planted10auth"),
    (".env DB_PASSWORD", "diff", "DB_PASSWORD=planted11env", "planted11env"),
    ("yaml password:", "diff", "password: planted12yaml", "planted12yaml"),
    ("dict api_key", "cell", 'conf = {"api_key": "planted13dict"}', "planted13dict"),
    ("annotated", "cell", 'mail_password: str = "planted14annot"', "planted14annot"),
    ("mysql_pwd", "cell", "mysql_pwd = 'planted15pwd'", "planted15pwd"),
    ("private_key", "cell", 'private_key = "planted16priv"', "planted16priv"),
    ("access_token", "cell", 'access_token = "planted17access"', "planted17access"),
    ("session_key", "cell", 'session_key = "planted18sess"', "planted18sess"),
    ("cookie", "cell", 'cookie = "planted19cookie"', "planted19cookie"),
    ("DBPASSWORD run-together", "cell", 'DBPASSWORD = "planted20together"', "planted20together"),
    ("AWS key id", "cell", 'aws_id = "AKIAIOSFODNN7PLANTED"', "AKIAIOSFODNN7PLANTED"),
    ("bare AWS secret", "cell", f'aws = "{AWS_SECRET}"', AWS_SECRET),
    ("GitHub ghp_", "cell", 'gh = "ghp_planted23aB4cD5eF6gH7iJ8kL9mN0pQ1r"',
     "ghp_planted23aB4cD5eF6gH7iJ8kL9mN0pQ1r"),
    ("github_pat_", "cell", 'pat = "github_pat_11PLANTED24abcdefghijklmnopqrstu"',
     "github_pat_11PLANTED24abcdefghijklmnopqrstu"),
    ("Slack xoxb", "cell", 'slack = "xoxb-123456789012-planted25slack"',
     "xoxb-123456789012-planted25slack"),
    ("Slack webhook", "cell", 'hook = "https://hooks.slack.com/services/T0PL4NT/B0PL4NT/planted26hook"',
     "planted26hook"),
    ("hf_ token", "cell", 'hf = "hf_planted27AbCdEfGhIjKlMnOpQrStUvWxYz12"',
     "hf_planted27AbCdEfGhIjKlMnOpQrStUvWxYz12"),
    ("OpenAI sk-", "cell", 'oa = "sk-planted28AbCdEfGhIjKlMnOpQrStUv"',
     "sk-planted28AbCdEfGhIjKlMnOpQrStUv"),
    ("Stripe sk_live_", "cell", 'st = "sk_live_planted29AbCdEfGhIjKl"',
     "sk_live_planted29AbCdEfGhIjKl"),
    ("Google AIza", "cell", 'gk = "AIzaSyPlanted30_AbCdEfGhIjKlMnOpQrStUvW"',
     "AIzaSyPlanted30_AbCdEfGhIjKlMnOpQrStUvW"),
    ("JWT", "cell", f'jwt = "{JWT}"', JWT),
    ("Bearer header", "cell", 'hdr = {"X": "Bearer planted32bearerAbCdEfGh"}',
     "planted32bearerAbCdEfGh"),
    ("PEM block", "cell",
     f'pem = """-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"""',
     PEM_BODY),
    ("Azure AccountKey", "cell",
     'conn = "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=planted34azure==;"',
     "planted34azure"),
    ("URL user:pw@", "cell", 'db = "postgres://bob:planted35url@db.local/x"', "planted35url"),
    ("redis://:pw@", "cell", 'cache = "redis://:planted36redis@cache:6379/0"', "planted36redis"),
    ("'@' inside password", "cell", 'pg = "postgres://u:planted37@t@db.local:5432/x"',
     "planted37@t"),
    ("SAS sig=", "cell", 'blob = "https://a.blob.core.windows.net/c/f?sv=1&sig=planted38sas%2B"',
     "planted38sas"),
    ("--tags secret name", "tags", "api_token=planted39tag", "planted39tag"),
    ("--tags secret value", "tags", "note=ghp_planted40tagAbCdEfGhIjKlMnOpQrSt",
     "ghp_planted40tagAbCdEfGhIjKlMnOpQrSt"),
    ('print("pw", pw)', "cell", 'pw = "planted41printed"\nprint("pw", pw)', "planted41printed"),
    ("env var printed", "env", "SERVICE_TOKEN=planted42envtoken", "planted42envtoken"),
    ("kernel history", "history", 'api_key = "planted43hist"', "planted43hist"),
    ("notebook copy (JSON escapes)", "notebook", 'password = "planted44nb"', "planted44nb"),
    ("uncommitted file in notebook folder", "diff", 'token = "planted45diff"', "planted45diff"),
    ("--password option", "cell", 'cmd = "train --password planted46opt"', "planted46opt"),
    ("Basic auth", "cell", 'h = "Authorization: Basic cGxhbnRlZDQ3OmJhc2ljYXV0aA=="',
     "cGxhbnRlZDQ3OmJhc2ljYXV0aA=="),
    ("secret var printed via f-string", "cell",
     'db_password = "planted48fstr"\nprint(f"connecting with {db_password}")', "planted48fstr"),
    ("uncommitted file outside the notebook folder", "outside", 'x = "planted49outside"',
     "planted49outside"),
]

#: (case, line in the cell, param name, logged value) — must stay as they are
LOOKALIKES: list[tuple[str, str, str, str]] = [
    ("max_tokens", "max_tokens = 512", "max_tokens", "512"),
    ("tokenizer", 'tokenizer = "bert-base-uncased"', "tokenizer", "'bert-base-uncased'"),
    ("n_authors", "n_authors = 3", "n_authors", "3"),
    ("author", 'author = "Ada Lovelace"', "author", "'Ada Lovelace'"),
    ("bypass_cache", "bypass_cache = True", "bypass_cache", "True"),
    ("sort_key", 'sort_key = "date"', "sort_key", "'date'"),
    ("git sha", 'ref = "e83c5163316f89bfbde7d9ab23ca2e25604af290"', "ref",
     "'e83c5163316f89bfbde7d9ab23ca2e25604af290'"),
    ("sha256", f'digest = "{SHA256}"', "digest", f"'{SHA256}'"),
    ("uuid", 'run_uuid = "123e4567-e89b-12d3-a456-426614174000"', "run_uuid",
     "'123e4567-e89b-12d3-a456-426614174000'"),
    ("pip url @tag", 'pkg = "git+https://github.com/org/repo@v1.2.3"', "pkg",
     "'git+https://github.com/org/repo@v1.2.3'"),
    ("email", 'email = "ada@example.com"', "email", "'ada@example.com'"),
    ("keyboard", 'keyboard = "qwerty"', "keyboard", "'qwerty'"),
    ("n_passes", "n_passes = 4", "n_passes", "4"),
    ("num_tokens", "num_tokens = 2048", "num_tokens", "2048"),
    ("monkey", 'monkey = "patch"', "monkey", "'patch'"),
]


def _everything(client: Any, run: Any, tmp: Path) -> str:
    import mlflow.artifacts

    dest = Path(mlflow.artifacts.download_artifacts(run.info.artifact_uri, dst_path=str(tmp)))
    (tmp / "files").unlink(missing_ok=True)
    (tmp / "files").symlink_to(dest)
    texts = [json.dumps(run.data.params), json.dumps(run.data.tags),
             json.dumps(list(run.data.metrics))]
    texts += [p.read_text(errors="replace") for p in dest.rglob("*") if p.is_file()]
    return "\n".join(texts)


@pytest.mark.slow
def test_secrets_table(ip: Any, client: Any, git_project: Path, monkeypatch: Any,
                       tmp_path: Path) -> None:
    assert len(PLANTED) >= 40 and len(LOOKALIKES) >= 10
    folder = git_project / "work"
    folder.mkdir()
    (folder / "helpers.py").write_text("x = 1\n")
    (folder / ".env").write_text("A=1\n")
    (folder / "config.yaml").write_text("a: 1\n")
    (git_project / "other").mkdir()
    (git_project / "other" / "settings.py").write_text("x = 1\n")
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "base")
    by_where: dict[str, list[str]] = {}
    for _, where, line, _ in PLANTED:
        by_where.setdefault(where, []).append(line)
    (folder / "helpers.py").write_text("x = 1\n" + "\n".join(by_where["diff"][2:]) + "\n")
    (folder / ".env").write_text(f"A=1\n{by_where['diff'][0]}\n")
    (folder / "config.yaml").write_text(f"a: 1\n{by_where['diff'][1]}\n")
    (git_project / "other" / "settings.py").write_text("\n".join(by_where["outside"]) + "\n")
    for pair in by_where["env"]:
        monkeypatch.setenv(*pair.split("=", 1))
    body = "\n".join(by_where["cell"] + [line for _, line, _, _ in LOOKALIKES])
    body += "\nimport os\nprint(os.environ['SERVICE_TOKEN'])\nscore = 0.5"
    nb = new_notebook(cells=[new_code_cell(line) for line in by_where["notebook"]]
                      + [new_code_cell(body)])
    nb_path = folder / "nb.ipynb"
    nbformat.write(nb, str(nb_path))
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb_path))
    for line in by_where["history"]:
        ip.run_cell(line, store_history=True)
    tags = " ".join(by_where["tags"])
    ip.run_cell(f"%%mlops run --no-autolog --tags {tags}\n{body}", store_history=True)
    (run,) = all_runs(client)
    assert run.info.status == "FINISHED", run.data.tags
    blob = _everything(client, run, tmp_path)
    assert "code/nb.ipynb" in str(client.list_artifacts(run.info.run_id, "code"))
    leaked = [case for case, _, _, secret in PLANTED if secret in blob]
    over = [case for case, line, name, value in LOOKALIKES
            if run.data.params.get(name) != value or line not in blob]
    print(f"leaked {len(leaked)}/{len(PLANTED)}, over-redacted {len(over)}/{len(LOOKALIKES)}")
    assert not leaked, leaked
    assert not over, over
    cell_py = (tmp_path / "files" / "code" / "cell.py").read_text()
    compile(cell_py, "cell.py", "exec")  # the redacted cell still parses
    hist = (tmp_path / "files" / "code" / "history.py").read_text()
    compile(hist, "history.py", "exec")
    exec(compile('password = "[REDACTED]"\nmax_tokens = 512', "x", "exec"), {})
    diff = (tmp_path / "files" / "git" / "diff.patch").read_text()
    assert "work/helpers.py" in diff and "other/settings.py" not in diff


@pytest.mark.slow
def test_batch_parameter_secret_is_not_logged(project: Path, client: Any, tmp_path: Path) -> None:
    nb = new_notebook(cells=[
        new_code_cell('api_token = "default"\nC = 1.0', metadata={"tags": ["parameters"]}),
        new_code_cell("print(len(api_token), C)"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})
    nbformat.write(nb, str(project / "nb.ipynb"))
    out = subprocess.run([sys.executable, "-m", "nbmlops", "run", "nb.ipynb",
                          "-p", "api_token", "planted50cliToken", "-p", "C", "2.0"],
                         capture_output=True, text=True, timeout=300, cwd=project)
    assert out.returncode == 0, out.stderr[-2000:]
    runs = all_runs(client)
    assert runs
    for run in runs:
        assert "planted50cliToken" not in _everything(client, run, tmp_path / run.info.run_id)
    (batch,) = [r for r in runs if r.data.params.get("C") == "2.0"] or runs[:1]
    assert batch.data.params.get("api_token") in (None, "[REDACTED]")
    assert "planted50cliToken" not in out.stdout + out.stderr
