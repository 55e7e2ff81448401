#!/usr/bin/env bash
# Vaern developer entry points; each command does all its own set-up.
#
#   bash infra/dev.sh serve [ARGS...]   # run the service   (.venv/bin/vaern serve ARGS)
#   bash infra/dev.sh test  [ARGS...]   # check the import contracts, then run the test suite (pytest ARGS)
#   bash infra/dev.sh lint              # check the import contracts alone (lint-imports, pyproject.toml)
#
# Works on a fresh Debian 12 machine with python3: creates .venv (installing
# python3-venv with apt-get if needed) and installs the project with
# `pip install -e '.[dev]'` whenever pyproject.toml changed since the last
# install.  The tests start PostgreSQL, a Kafka-protocol broker and an OpenID
# provider themselves; `test` installs the provider's npm packages (npm ci).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
STAMP="$VENV/.vaern-install-stamp"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

log() { printf 'dev.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
    cat >&2 <<'USAGE'
usage: bash infra/dev.sh serve [ARGS...]   run the service (vaern serve ARGS)
       bash infra/dev.sh test  [ARGS...]   check the import contracts, then run the tests (pytest ARGS)
       bash infra/dev.sh lint              check the import contracts (docs/architecture.md)
USAGE
    exit 2
}

# apt_install PKG...: install Debian packages quietly; show the log on failure.
apt_install() {
    local sudo=() aptlog
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install $*"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
    aptlog="$(mktemp "${TMPDIR:-/tmp}/vaern-apt.XXXXXX")"
    log "installing $* with apt-get"
    if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
        && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; } \
        >"$aptlog" 2>&1; then
        cat "$aptlog" >&2
        rm -f "$aptlog"
        die "apt-get install $* failed"
    fi
    rm -f "$aptlog"
}

# lint_imports: the layer contracts in pyproject.toml ([tool.importlinter]); fails on a violation.
lint_imports() {
    [ -x "$VENV/bin/lint-imports" ] || die "$VENV/bin/lint-imports is missing (is import-linter in the dev extra?)"
    "$VENV/bin/lint-imports" --no-cache --no-logo || die "an import breaks the architecture's contracts (see above)"
}

# ensure_oidc_provider: the OpenID provider the tests sign in with (oidc-provider on Node.js, pinned in
# tests/support/oidc/package-lock.json), installed with `npm ci` whenever the lock file changed.
ensure_oidc_provider() {
    local dir="$ROOT/tests/support/oidc" want stamp
    { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || apt_install nodejs npm
    stamp="$dir/node_modules/.vaern-install-stamp"
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    log "installing the tests' OpenID provider (npm ci in tests/support/oidc)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $dir failed (oidc-provider needs Node.js 20.19 or later)"
    printf '%s\n' "$want" >"$stamp"
}

venv_ok() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }

ensure_venv() {
    command -v python3 >/dev/null 2>&1 || apt_install python3
    if venv_ok; then
        return
    fi
    [ -e "$VENV" ] && { log "removing incomplete virtualenv $VENV"; rm -rf "$VENV"; }
    local out
    if ! out="$(python3 -m venv "$VENV" 2>&1)"; then
        rm -rf "$VENV"
        if printf '%s' "$out" | grep -qiE 'ensurepip|python3-venv|No module named venv'; then
            # Debian splits venv/ensurepip out of python3 into python3-venv.
            apt_install python3-venv
            python3 -m venv "$VENV" || die "python3 -m venv failed even after installing python3-venv"
        else
            printf '%s\n' "$out" >&2
            die "python3 -m venv $VENV failed"
        fi
    fi
    venv_ok || die "virtualenv $VENV has no working pip"
}

ensure_installed() {
    local want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
        return
    fi
    log "installing the project into .venv (pyproject.toml changed or first run)"
    rm -f "$STAMP"
    "$VENV/bin/python" -m pip install -q -e '.[dev]' || die "pip install -e '.[dev]' failed"
    printf '%s\n' "$want" >"$STAMP"
}

setup() {
    # Serialise set-up between concurrent invocations (e.g. serve + test).
    if command -v flock >/dev/null 2>&1; then
        local lock
        lock="${TMPDIR:-/tmp}/vaern-dev-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12).lock"
        exec 9>"$lock"
        flock 9
    fi
    ensure_venv
    ensure_installed
    if command -v flock >/dev/null 2>&1; then
        flock -u 9
        exec 9>&-
    fi
}

[ $# -ge 1 ] || usage
cmd="$1"
shift

case "$cmd" in
    serve)
        setup
        [ -x "$VENV/bin/vaern" ] || die "$VENV/bin/vaern is missing (is [project.scripts] vaern defined?)"
        exec "$VENV/bin/vaern" serve "$@"
        ;;
    lint)
        setup
        lint_imports
        ;;
    test)
        setup
        lint_imports
        # Letters embed DejaVu Sans; the PDF tests check the embedded font is there.
        [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_install fonts-dejavu-core
        # The front-desk page is tested in Debian's Chromium (never a browser download).
        [ -x /usr/bin/chromium ] || apt_install chromium
        # Letters and legal exports are checked as a reader sees them: rendered to images by Poppler.
        command -v pdftoppm >/dev/null 2>&1 || apt_install poppler-utils
        # The systemd units in infra/deploy/ are checked by systemd's own parser.
        command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd
        # The tests sign in through a real OpenID provider, run on the machine's Node.js.
        ensure_oidc_provider
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    -h|--help|help)
        usage
        ;;
    *)
        log "unknown command: $cmd"
        usage
        ;;
esac
