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
    ["response-clock"],
    ["suggest"],
    ["users", "add"],
    ["wall-token"],
    ["retention"],
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
