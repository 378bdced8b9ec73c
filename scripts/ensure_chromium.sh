#!/usr/bin/env bash
# Make headless Chromium and its WebDriver available for the leaderboard's browser test.
#
# Idempotent: does nothing when `chromium` and `chromedriver` are already on PATH. Otherwise installs
# Debian's `chromium` and `chromium-driver` packages with apt-get (needs root, as on CI). Exits 0 in
# every case where it could not install (not root, no apt-get, no network), printing why: the browser
# test then skips with that reason instead of failing the build.
set -uo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if have chromium && have chromedriver; then
    echo "ensure_chromium: $(chromium --version 2>/dev/null | head -1) and chromedriver already installed"
    exit 0
fi
if ! have apt-get; then
    echo "ensure_chromium: apt-get not found; install Chromium and chromedriver by hand to run the browser test" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if have sudo && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "ensure_chromium: not root and no password-less sudo; run 'apt-get install chromium chromium-driver' as root" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq; then
    echo "ensure_chromium: apt-get update failed; the browser test will be skipped" >&2
    exit 0
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; then
    echo "ensure_chromium: apt-get install chromium chromium-driver failed; the browser test will be skipped" >&2
    exit 0
fi
echo "ensure_chromium: installed $(chromium --version 2>/dev/null | head -1)"
