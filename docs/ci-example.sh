#!/bin/sh
# Gate a bp config in CI: it must be valid, its gradients must be right, and
# training must reach a loss of at most MAX_LOSS (default 0.01). Any failure
# stops the script with bp's exit code (1: failed what was asked, 2: config or
# data error). Usage: sh docs/ci-example.sh [CONFIG [MAX_LOSS]]
set -eu

CONFIG="${1:-xor.yaml}"
MAX_LOSS="${2:-0.01}"
[ -f "$CONFIG" ] || bp init xor "$CONFIG"     # a ready example when none is given

bp check "$CONFIG"
bp gradcheck "$CONFIG" --json > gradcheck.json
bp train "$CONFIG" --json --fail-above "$MAX_LOSS" --save trained.yaml > run.json

python -c '
import json
error = json.load(open("gradcheck.json"))["max_rel_error"]
run = json.load(open("run.json"))
status, epochs, loss = run["status"], run["epochs_run"], run["final_loss"]
print(f"gradients ok: max relative error {error:.1e}")
print(f"training {status} after {epochs} epochs, final loss {loss:.4g}")
'
