"""Every subcommand answers --help, as the README promises."""

import subprocess
import sys

import pytest

COMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["load-city"],
    ["ingest"],
    ["simulate"],
    ["serve"],
    ["demo"],
    ["presence"],
    ["dispatcher"],
    ["jt808-gateway"],
    ["response-clock"],
    ["suggest"],
    ["users", "add"],
    ["wall-token"],
    ["retention"],
    ["replay-export"],
    ["camera-sim"],
    ["camera-health"],
    ["relay-env"],
]


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "top")
def test_help(words):
    done = subprocess.run(
        [sys.executable, "-m", "dispatchmap.cli", *words, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "usage: dispatchmap" in done.stdout


def test_a_command_without_its_server_says_what_is_missing(monkeypatch):
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "dispatchmap.cli", "ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "MQTT_URL is not set" in done.stderr


def test_a_wall_token_with_an_empty_label_is_refused_clearly_and_audited(db_url):
    import psycopg

    done = subprocess.run(
        [sys.executable, "-m", "dispatchmap.cli", "wall-token", ""],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == "dispatchmap wall-token: error: label: 1-80 characters\n"
    assert done.stdout == ""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT actor, action, ok, detail FROM audit_log").fetchall()
        tokens = conn.execute("SELECT count(*) FROM wall_tokens").fetchone()
    assert rows == [
        ("cli", "add_wall_token", False, {"label": "", "refused": "label: 1-80 characters"})
    ]
    assert tokens == (0,)
