#!/usr/bin/env bash
# Installs what building and testing Lifeboat needs on Debian/Ubuntu: libcurl and SQLite headers,
# and the Python packages the integration tests use (moto's S3 server, boto3, pytest).
# The Swift toolchain (6.1 or newer) must already be on PATH: https://www.swift.org/install/linux/
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: no swift on PATH; install a Swift 6.1+ toolchain first (https://www.swift.org/install/linux/)" >&2
    exit 1
fi

packages=()
for package in libcurl4-openssl-dev libsqlite3-dev pkg-config; do
    dpkg -s "$package" >/dev/null 2>&1 || packages+=("$package")
done
# python3 and pip may come from elsewhere (pyenv); ask apt for them only when they are absent.
command -v python3 >/dev/null 2>&1 || packages+=(python3)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
if [ "${#packages[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "install-deps: installing ${packages[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if [ "${1:-}" = "--test" ]; then
    if ! python3 -c "import moto.server, boto3, pytest, flask_cors" >/dev/null 2>&1; then
        echo "install-deps: installing moto[server], boto3 and pytest"
        # Debian's own python3 refuses system-wide pip installs (PEP 668) unless told otherwise.
        python3 -m pip install --quiet "moto[server]" boto3 pytest 2>/dev/null \
            || python3 -m pip install --quiet --break-system-packages "moto[server]" boto3 pytest
    fi
fi
