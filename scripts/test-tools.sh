#!/usr/bin/env bash
# Installs the tools some tests drive, where they are missing: tmux, the terminal the
# dashboard's end-to-end test (tests/integration/tests/tmux_e2e.rs) and the benchmark's
# dashboard figures run in. Without it those tests pass with a note that they were skipped.
# Needs root (or sudo) and Debian's packages; does nothing when everything is there.
set -euo pipefail

missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "test-tools: ${missing[*]} missing, and installing needs root; the tests that need them are skipped" >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "test-tools: ${missing[*]} missing and no apt-get here; install them with your package manager" >&2
    exit 0
fi
echo "test-tools: installing ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { $sudo apt-get update -qq >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
    || echo "test-tools: could not install ${missing[*]}; the tests that need them are skipped" >&2
