# Sourced by the other scripts: one build environment for runs, tests and CI.
# cargo's target dir lives outside the clone (override with CARGO_TARGET_DIR)
# so a fresh clone, as CI makes, reuses earlier builds on the same machine.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lockstep/target}
# cargo-leptos looks tailwindcss and wasm-opt up on PATH before it would try
# a download, which fails here: put the npm-installed ones first.
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
