"""Reading deploy/: the systemd units' command lines and environment, as
systemd would run them, and the README's numbered command blocks, so the
tests run what a station installs and cannot drift from it."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
UNITS = DEPLOY / "systemd"
# Where the units and the README say things live, and where the tests keep them.
INSTALLED_BIN = "/opt/dispatchmap/venv/bin/dispatchmap"
VENV_BIN = str(Path(sys.executable).parent / "dispatchmap")
ETC = "/etc/dispatchmap"
# What systemd gives a service besides its Environment= and EnvironmentFile=.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def unit_service(name: str) -> dict[str, list[str]]:
    """The [Service] section of deploy/systemd/``name``: key -> its values in order."""
    out: dict[str, list[str]] = {}
    section = ""
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def specifiers(text: str, instance: str) -> str:
    """systemd's ``%i`` (the instance) and ``%%`` (a percent sign)."""
    return re.sub(r"%[i%]", lambda m: instance if m[0] == "%i" else "%", text)


def read_env_file(path: Path) -> dict[str, str]:
    """An EnvironmentFile as systemd reads it (KEY=VALUE, ``#`` comments,
    optional quotes); a missing file is an error, as it is for systemd."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip().strip("\"'")
    return out


def unit_environment(name: str, etc: Path, instance: str = "", home: str = "/") -> dict[str, str]:
    """The environment systemd gives unit ``name``: its Environment= and
    EnvironmentFile= (``/etc/dispatchmap`` read from ``etc``), plus PATH,
    LANG and HOME, and PYTHONPATH so the venv's program runs this checkout."""
    service = unit_service(name)
    env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8", "HOME": home, "PYTHONPATH": str(REPO)}
    for item in service.get("Environment", []):
        for word in shlex.split(specifiers(item, instance)):
            key, value = word.split("=", 1)
            env[key] = value
    for item in service.get("EnvironmentFile", []):
        path = specifiers(item, instance).lstrip("-")
        env.update(read_env_file(Path(path.replace(ETC, str(etc), 1))))
    return env


def command_line(
    name: str, key: str, env: dict[str, str], instance: str = "", **extra: str
) -> list[str]:
    """The argv of unit ``name``'s ``key`` (ExecStart, ExecReload) as systemd
    runs it: specifiers, then ``$VAR`` / ``${VAR}`` from ``env`` and ``extra``
    (MAINPID), ``$$`` a dollar sign; the installed program is the venv's."""
    (line,) = unit_service(name)[key]
    words = []
    for word in shlex.split(specifiers(line, instance)):
        words.append(_VAR.sub(lambda m: _expand(m, {**env, **extra}), word))
    return [VENV_BIN if w == INSTALLED_BIN else w for w in words]


def _expand(match: re.Match[str], env: dict[str, str]) -> str:
    if match[0] == "$$":
        return "$"
    return env.get(match[1] or match[2], "")


def readme_blocks() -> dict[str, str]:
    """deploy/README.md's command blocks, by the step named on their first
    line (``# step: NAME``), in the README's order."""
    text = (DEPLOY / "README.md").read_text()
    blocks = {}
    for body in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        first, _, rest = body.partition("\n")
        match = re.fullmatch(r"# step: ([a-z0-9-]+)", first.strip())
        if match is None:
            raise AssertionError(f"a command block without '# step: NAME' first: {body[:60]!r}")
        if match[1] in blocks:
            raise AssertionError(f"step {match[1]} twice in deploy/README.md")
        blocks[match[1]] = rest
    return blocks
