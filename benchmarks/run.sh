#!/usr/bin/env bash
# Installs what the side-by-side benchmarks need (once), then runs them:
# mite 2.11.0 in its own venv, libcurl headers for its acurl, nginx and wrk for the HTTP section.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -e /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -e /usr/include/curl/curl.h ] || missing+=(libcurl4-openssl-dev)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
REF_VENV=${REF_VENV:-$HOME/.cache/mite-ref-venv}
if [ ! -x "$REF_VENV/bin/mite" ]; then
    python3 -m venv "$REF_VENV"
    "$REF_VENV/bin/pip" install -q mite==2.11.0
fi
.venv/bin/python -m pip install -q msgpack
.venv/bin/python benchmarks/run.py --ours .venv/bin/mite --ref "$REF_VENV/bin/mite" --http "$@"
