#!/usr/bin/env bash
# Installs every tool the build and the tests need, each step skipped when the
# right version is already there, so only a new machine pays for it.
#   scripts/tools.sh          build tools (wasm target, cargo-leptos, wasm-bindgen, npm tools)
#   scripts/tools.sh --e2e    also Chromium, the Playwright package, and the API
#                             checkers (schemathesis, openapi-spec-validator)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)

log() { printf '\033[1;34m[tools]\033[0m %s\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return 0
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
}

cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then return 0; fi
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 20 min on 2 cores, once per machine)"
  # 0.3.11's own lock pins cargo-util-schemas 0.14.2, which needs a newer rustc
  # than 1.95: fetch the published source, step that one crate back, build it.
  local src
  src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cargo-leptos-$CARGO_LEPTOS_VERSION 2>/dev/null | head -n1 || true)
  if [ -z "$src" ]; then
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked >/dev/null 2>&1 || true
    src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cargo-leptos-$CARGO_LEPTOS_VERSION | head -n1)
  fi
  local work; work=$(mktemp -d)
  cp -r "$src" "$work/cargo-leptos"
  (cd "$work/cargo-leptos" && cargo update cargo-util-schemas@0.14.2 --precise 0.14.1 \
    && cargo install --path . --locked)
  rm -rf "$work"
}

wasm_bindgen() {
  if wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then return 0; fi
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 6 min)"
  # Not --locked: the published lock pins a yanked crate.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
}

npm_tools() {
  # Tailwind and wasm-opt (binaryen from npm: Debian's 108 breaks hydration).
  if [ -x node_modules/.bin/tailwindcss ] && [ -x node_modules/.bin/wasm-opt ] \
     && [ node_modules/.package-lock.json -nt package-lock.json ]; then return 0; fi
  log "npm install (tailwind, binaryen)"
  # Not `npm ci`: npm 11 refuses a lock whose optional per-platform packages
  # it resolved on another machine; install honours the lock all the same.
  npm install --no-audit --no-fund --loglevel=error
}

e2e_tools() {
  apt_install chromium
  if [ -d end2end/node_modules/@playwright/test ] \
     && [ end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ]; then return 0; fi
  log "npm install in end2end (Playwright without its browser download)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error)
}

# Python tools for scripts/api-check.sh, pinned, in a virtualenv of their own.
API_VENV="$HOME/.cache/lockstep/venv"
api_tools() {
  if "$API_VENV/bin/schemathesis" --version 2>/dev/null | grep -q "4.32.5" \
     && [ -x "$API_VENV/bin/openapi-spec-validator" ]; then return 0; fi
  command -v curl >/dev/null || apt_install curl
  # Debian's python3 creates virtualenvs only with python3-venv (ensurepip).
  python3 -c "import ensurepip" 2>/dev/null || apt_install python3 python3-venv
  log "pip install schemathesis, openapi-spec-validator (into $API_VENV)"
  python3 -m venv "$API_VENV"
  "$API_VENV/bin/pip" install -q "schemathesis==4.32.5" "openapi-spec-validator==0.9.0"
}

command -v cargo >/dev/null || { echo "cargo is required (install Rust with rustup)" >&2; exit 1; }
command -v npm >/dev/null || apt_install nodejs npm
wasm_target
wasm_bindgen
cargo_leptos
npm_tools
if [ "${1:-}" = "--e2e" ]; then e2e_tools; api_tools; fi
log "tools ready"
