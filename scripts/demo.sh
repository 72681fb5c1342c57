#!/usr/bin/env bash
# The main job end to end: install dependencies, build, and run the campus lab's scenarios.
# Leaves no namespace, interface or process behind.
set -euo pipefail
. "$(dirname "$0")/as-root.sh"
as_root "$0" "$@"
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target vnet
exec ./build/release/vnet lab test examples/campus.yaml "$@"
