#!/usr/bin/env bash
# The main job: vnet lab test examples/campus.yaml passes every step and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
example_passes campus
echo "1 passed, 0 failed"
