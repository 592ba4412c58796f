#!/usr/bin/env bash
# Installs mite 2.11.0 into its own venv (once) and runs the side-by-side benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
REF_VENV=${REF_VENV:-$HOME/.cache/mite-ref-venv}
if [ ! -x "$REF_VENV/bin/mite" ]; then
    python3 -m venv "$REF_VENV"
    "$REF_VENV/bin/pip" install -q mite==2.11.0
fi
.venv/bin/python benchmarks/run.py --ours .venv/bin/mite --ref "$REF_VENV/bin/mite" "$@"
