#!/usr/bin/env bash
# One command on a fresh machine: install into .venv, answer a sample question on the
# bundled corpus (an empty store ingests corpus/ on first use), then open the staff chat.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/assistant ask "Combien d'assurés ont activé Mon Espace Santé ?"
if [ "${ASSISTANT_NO_UI:-0}" != "1" ]; then
  exec .venv/bin/streamlit run ui/app.py --browser.gatherUsageStats false "$@"
fi
