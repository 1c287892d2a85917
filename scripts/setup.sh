#!/usr/bin/env bash
# Installs what dispatchmap needs and is missing: Debian packages (as root),
# then the .venv from the pinned lock file. Re-running on a ready machine
# only checks and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting
  mosquitto mosquitto-clients chromium fonts-noto-cjk
  fonts-wqy-microhei  # a TrueType CJK font reportlab can embed in the Chinese PDF report
  ffmpeg fonts-dejavu-core  # the demo's simulated cameras: test pictures with their id and time burnt in
  openssl systemd  # the tests make a CA for TLS, and check deploy/systemd with systemd-analyze
)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
LOCK=requirements.lock
STAMP=.venv/.installed-$(sha256sum "$LOCK" pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ]; then
  echo "setup: building .venv from $LOCK"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip==25.3
  .venv/bin/python -m pip install -q -r "$LOCK"
  .venv/bin/python -m pip install -q --no-deps -e .
  rm -f .venv/.installed-*
  touch "$STAMP"
fi
