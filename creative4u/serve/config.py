"""The gateway's settings: one dataclass, read by :mod:`creative4u.config` (YAML, dotted ``--set key=value``).

>>> cfg = load_gateway_config(None, ["port=9000", "backends.feature.timeout_s=5", "max_images=4"])
>>> cfg.port, cfg.backends["feature"].timeout_s, cfg.max_images
(9000, 5.0, 4)
>>> cfg.model_ids()
['creative4u', 'creative4u/feature']

The same file configures the Gradio demo (``demo_*`` fields). Every field has ``help`` metadata, which the
``creative4u serve --help-config`` listing prints (:func:`creative4u.config.config_help`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative4u.config import load_config

MODEL_PREFIX = "creative4u"


@dataclass
class BackendConfig:
    """One judge backend the gateway can route to (model id ``creative4u/<name>``)."""

    backend: str = field(
        default="feature", metadata={"help": "Judge backend: a JUDGES name, or 'module:Class' for a plug-in."}
    )
    options: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Constructor options of the judge (base_url, model, timeout, ...)."}
    )
    timeout_s: float = field(
        default=60.0, metadata={"help": "Budget for one request's whole pipeline on this backend, seconds."}
    )
    fallback: str | None = field(
        default=None, metadata={"help": "Backend name to use when this one is down or times out (None: reply 503)."}
    )
    cooldown_s: float = field(
        default=15.0,
        metadata={"help": "After a failure, skip this backend for this long (0: never; right for a local judge)."},
    )
    max_parallel: int = field(
        default=0, metadata={"help": "Pipeline runs on this backend at once (0: one per worker; 1 for a local model)."}
    )
    description: str = field(default="", metadata={"help": "Shown in /v1/models and the demo's backend menu."})


@dataclass
class GatewayConfig:
    """Settings of the HTTP gateway and the demo."""

    host: str = field(default="127.0.0.1", metadata={"help": "Address to bind (use 0.0.0.0 only behind a proxy)."})
    port: int = field(default=8000, metadata={"help": "TCP port of the API."})
    api_keys_file: str | None = field(
        default=None, metadata={"help": "File of API keys: one per line, optionally 'label key'; # comments."}
    )
    api_keys_env: str = field(
        default="CREATIVE4U_API_KEYS", metadata={"help": "Environment variable holding comma-separated API keys."}
    )
    require_auth: bool = field(
        default=True, metadata={"help": "Refuse requests without a valid Bearer key (false: open, local use only)."}
    )
    profile: str = field(default="default", metadata={"help": "Check profile: a built-in name or a YAML path."})
    strategy: str = field(default="round_robin", metadata={"help": "Pairing strategy: round_robin or tournament."})
    cache_dir: str | None = field(default=None, metadata={"help": "On-disk cache of check measurements."})
    backends: dict[str, BackendConfig] = field(
        default_factory=lambda: {
            "feature": BackendConfig(description="built-in feature judge (CPU, offline)", cooldown_s=0.0)
        },
        metadata={"help": "Judge backends by name; model 'creative4u/<name>' routes to one."},
    )
    default_backend: str = field(default="feature", metadata={"help": "Backend behind the plain model 'creative4u'."})
    warmup: bool = field(
        default=True, metadata={"help": "Load check models and the default judge at start-up, before /health is up."}
    )
    queue_timeout_s: float = field(
        default=30.0,
        metadata={"help": "Longest wait for a free worker before 503 'overloaded' (not a backend fault)."},
    )
    workers: int = field(default=4, metadata={"help": "Threads running pipeline work (CPU-bound) off the event loop."})
    max_body_bytes: int = field(default=32 * 1024 * 1024, metadata={"help": "Largest request body, bytes (413)."})
    max_image_bytes: int = field(default=10 * 1024 * 1024, metadata={"help": "Largest image file, bytes (413)."})
    max_image_pixels: int = field(default=25_000_000, metadata={"help": "Largest image, width x height (413)."})
    max_images: int = field(default=16, metadata={"help": "Most images in one request (400 beyond)."})
    max_text_chars: int = field(default=4000, metadata={"help": "Longest title/queries text in one request."})
    max_concurrency_per_key: int = field(
        default=8, metadata={"help": "Requests one API key may have in flight at once (429 beyond)."}
    )
    allowed_url_prefixes: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Remote image URLs accepted only when they start with one of these (empty: data URLs only)."
        },
    )
    url_fetch_timeout_s: float = field(default=10.0, metadata={"help": "Timeout for fetching one remote image."})
    metrics_require_auth: bool = field(
        default=False, metadata={"help": "Require an API key for /metrics (false: scrape from the private network)."}
    )
    log_level: str = field(default="info", metadata={"help": "uvicorn log level."})
    demo_port: int = field(default=7860, metadata={"help": "TCP port of the Gradio demo."})
    demo_users_env: str = field(
        default="CREATIVE4U_DEMO_USERS", metadata={"help": "Env var with 'user:password,...' to turn on demo login."}
    )
    demo_users_file: str | None = field(
        default=None, metadata={"help": "File of 'user:password' lines turning on the demo login."}
    )
    demo_examples: str = field(
        default="data/samples", metadata={"help": "Folder of example creatives preloaded in the demo."}
    )

    def model_ids(self) -> list[str]:
        """The ids /v1/models lists: the default model, then one per backend."""
        return [MODEL_PREFIX] + [f"{MODEL_PREFIX}/{name}" for name in self.backends]

    def validate(self) -> GatewayConfig:
        """Raise ValueError naming the field when a setting cannot work."""
        if self.default_backend not in self.backends:
            raise ValueError(f"default_backend {self.default_backend!r} is not in backends: {sorted(self.backends)}")
        for name, b in self.backends.items():
            if b.fallback is not None and b.fallback not in self.backends:
                raise ValueError(f"backends.{name}.fallback {b.fallback!r} is not a configured backend")
            if b.fallback == name:
                raise ValueError(f"backends.{name}.fallback cannot be the backend itself")
            if b.timeout_s <= 0:
                raise ValueError(f"backends.{name}.timeout_s must be > 0")
            _check_judge(name, b)
        if self.queue_timeout_s <= 0:
            raise ValueError("queue_timeout_s must be > 0")
        for key in ("workers", "max_body_bytes", "max_image_bytes", "max_image_pixels", "max_concurrency_per_key"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")
        for prefix in self.allowed_url_prefixes:
            scheme, sep, rest = prefix.partition("://")
            if scheme not in ("http", "https") or not sep or "/" not in rest:
                # "https://cdn.example.com" would also admit "https://cdn.example.com.attacker.net/..."
                raise ValueError(f"allowed_url_prefixes: {prefix!r} must look like https://host/ (ending the host)")
        if self.max_images < 2:
            raise ValueError(f"max_images must be >= 2, got {self.max_images}")
        return self


def _check_judge(name: str, b: BackendConfig) -> None:
    """A backend's judge spec must resolve and its options fit the backend's options dataclass (at load time).

    >>> _check_judge("vllm", BackendConfig(backend="openai", options={"max_new_tokens": "16"}))
    Traceback (most recent call last):
    ...
    creative4u.config.ConfigError: backends.vllm.options: max_new_tokens: expected int, got str '16'
    """
    from creative4u.judge import judge_options

    try:
        judge_options(b.backend, b.options, where=f"backends.{name}.options")
    except KeyError as err:  # an unknown backend name: the registry's message lists the valid names and aliases
        raise ValueError(f"backends.{name}.backend: {err.args[0]}") from None


def load_gateway_config(path: str | Path | None = None, overrides: list[str] | None = None) -> GatewayConfig:
    """Read the YAML file (when given), apply dotted ``key=value`` overrides, build and validate the config.

    >>> load_gateway_config(None, ["backends.vllm.backend=openai", "backends.vllm.fallback=feature"]).model_ids()
    ['creative4u', 'creative4u/feature', 'creative4u/vllm']
    """
    return load_config(GatewayConfig, path, overrides or (), where=str(path) if path else "gateway config").validate()
