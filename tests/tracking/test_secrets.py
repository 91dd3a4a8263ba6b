"""Secrets never reach MLflow: planted credentials in names, source, history, diff, output."""

from __future__ import annotations

import pytest

from nbmlops.tracking import capture
from nbmlops.tracking.secrets import is_secret_name, redact
from tests.conftest import git
from tests.tracking._helpers import all_runs, artifact_text

AWS = "AKIAIOSFODNN7EXAMPLE"
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9abcdefghijklmnop"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretsecret\n-----END RSA PRIVATE KEY-----"
GH = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.mark.parametrize("name", ["password", "db_passwd", "API_KEY", "github_token",
                                  "aws_secret_access_key", "client_secret", "auth_header"])
def test_credential_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["C", "max_iter", "learning_rate", "n_estimators", "alpha",
                                  "batch_size", "random_state"])
def test_ordinary_names(name):
    assert not is_secret_name(name)


def test_auth_names_are_whole_words():
    # 'auth' is a credential word (auth_header, oauth_state); `author_x` and `n_authors` are not
    assert is_secret_name("auth_header") and is_secret_name("oauth_state")
    assert not is_secret_name("author_x") and not is_secret_name("n_authors")
    analysis = capture.analyse("author_x = 'Ada'\nC = 1\nauth_key = 'abcd1234'")
    assert capture.literal_params(analysis, redact_secrets=True) == {"author_x": "'Ada'", "C": "1"}
    assert redact('author_x = "Ada Lovelace"') == 'author_x = "Ada Lovelace"'


@pytest.mark.parametrize("secret", [AWS, BEARER, PEM, GH, "sk_live_" + "x" * 24,
                                    "xoxb-123456789012-abcdefghij"])
def test_values_are_redacted(secret):
    text = redact(f"before {secret} after")
    assert secret not in text and "[REDACTED]" in text
    assert text.startswith("before") and text.endswith("after")


def test_assignments_keep_the_name_hide_the_value():
    assert redact('password = "hunter2!"') == 'password = "[REDACTED]"'
    assert redact("DB_PASSWORD=supersecret1") == 'DB_PASSWORD="[REDACTED]"'
    assert redact('api_key = os.environ["API_KEY"]') == 'api_key = os.environ["API_KEY"]'
    assert redact("postgres://bob:pw1234@db/x") == "postgres://[REDACTED]@db/x"


def test_planted_secrets_do_not_reach_mlflow(ip, client, git_project):
    (git_project / "settings.py").write_text("x = 1\n")
    git(git_project, "add", "settings.py")
    git(git_project, "commit", "-q", "-m", "settings")
    (git_project / "settings.py").write_text(f"x = 1\nAWS_KEY = '{AWS}'\n")  # uncommitted
    ip.run_cell(f"aws_id = '{AWS}'", store_history=True)
    ip.run_cell(
        "%%mlops run\n"
        "db_password = 'hunter2hunter2'\n"
        f"api_token = '{GH}'\n"
        f"header = '{BEARER}'\n"
        "C = 0.5\n"
        f"print(\"\"\"{PEM}\"\"\")\n"
        "score = C * 2",
        store_history=True,
    )
    run = all_runs(client)[0]
    rid = run.info.run_id
    assert "db_password" not in run.data.params and "api_token" not in run.data.params
    assert run.data.params["C"] == "0.5"
    everything = [str(run.data.params), str(run.data.tags), str(run.data.metrics)]
    for path in ["code/cell.py", "code/history.py", "git/diff.patch", "output/stdout.txt"]:
        everything.append(artifact_text(client, rid, path))
    blob = "\n".join(everything)
    for secret in [AWS, GH, "hunter2hunter2", "eyJhbGciOiJIUzI1NiJ9abcdefghijklmnop",
                   "MIIEowIBAAKCAQEAsecretsecret"]:
        assert secret not in blob, secret
    assert "[REDACTED]" in artifact_text(client, rid, "git/diff.patch")
