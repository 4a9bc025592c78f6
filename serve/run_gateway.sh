#!/usr/bin/env bash
# Start the creative4u gateway.
#
#   serve/run_gateway.sh                 # dev: serve/gateway.yaml, feature judge, 127.0.0.1:8000
#   serve/run_gateway.sh prod            # prod: serve/gateway.prod.yaml, vLLM backend with feature fallback
#   serve/run_gateway.sh dev --port 8080 --set max_images=8
#
# Keys: $CREATIVE4U_API_KEYS (comma-separated) or the config's api_keys_file. In dev mode, when neither is set,
# a random key is generated for this run and printed once.
# Environment: PYTHON (default: .venv/bin/python when present, else python3).
set -euo pipefail

cd "$(dirname "$0")/.."
MODE="${1:-dev}"
[[ $# -gt 0 ]] && shift
case "${MODE}" in
    dev) CONFIG=serve/gateway.yaml ;;
    prod) CONFIG=serve/gateway.prod.yaml ;;
    *) echo "usage: $0 [dev|prod] [creative4u serve options]" >&2; exit 2 ;;
esac
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

if [[ "${MODE}" == dev && -z "${CREATIVE4U_API_KEYS:-}" ]]; then
    CREATIVE4U_API_KEYS="c4u-$("${PYTHON}" -c 'import secrets; print(secrets.token_urlsafe(24))')"
    export CREATIVE4U_API_KEYS
    echo "creative4u: no \$CREATIVE4U_API_KEYS set; this run's key: ${CREATIVE4U_API_KEYS}" >&2
fi
export ORT_DISABLE_TELEMETRY=1 GRADIO_ANALYTICS_ENABLED=False

exec "${PYTHON}" -m creative4u serve --config "${CONFIG}" "$@"
