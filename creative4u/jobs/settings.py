"""Settings of the jobs wing: the store, the workers, the webhooks and the per-client screening settings.

>>> cfg = load_jobs_config(None, [("store", "sqlite://"), "clients.acme.profile=strict",
...                                "clients.acme.thresholds.sharpness=0.7"])
>>> sorted(cfg.clients), cfg.client("acme").thresholds, cfg.client(None) is cfg.clients["default"]
(['acme', 'default'], {'sharpness': 0.7}, True)
>>> cfg.client("nobody")
Traceback (most recent call last):
...
creative4u.jobs.settings.UnknownClientError: unknown client 'nobody'; configured clients: acme, default

One YAML file (``serve/jobs.example.yaml``) read by :mod:`creative4u.config`: ``--set a.b=c`` overrides any field,
``creative4u jobs worker --help-config`` lists them all. A job without a client runs with ``default_client``.
Webhook secrets are ``whsec_<base64>`` strings (Standard Webhooks); keep them out of the file with
``webhook_secrets_env``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative4u.config import load_config


class KeyNotBoundError(PermissionError):
    """An API key whose label is bound to no client and is not an admin: it may not use the jobs API."""


class UnknownClientError(KeyError):
    """A job names a client the config does not know."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class ClientSettings:
    """How one client's jobs are screened and called back."""

    profile: str = field(default="default", metadata={"help": "Check profile: a built-in name or a YAML path."})
    thresholds: dict[str, float] = field(
        default_factory=dict, metadata={"help": "Per-check threshold overrides on top of the profile (check: value)."}
    )
    backend: str = field(default="feature", metadata={"help": "Judge backend of select jobs (a JUDGES name)."})
    backend_options: dict[str, Any] = field(default_factory=dict, metadata={"help": "Options of that judge."})
    strategy: str = field(default="round_robin", metadata={"help": "Pairing strategy: round_robin or tournament."})
    evidence: bool = field(default=True, metadata={"help": "Include check evidence in results unless a job says."})
    webhook_secrets: list[str] = field(
        default_factory=list,
        metadata={"help": "whsec_ secrets; every one signs each delivery (several during a key rotation)."},
    )
    webhook_secrets_env: str | None = field(
        default=None, metadata={"help": "Env var with comma-separated whsec_ secrets (added to webhook_secrets)."}
    )
    callback_prefixes: list[str] = field(
        default_factory=list,
        metadata={"help": "Callback URLs must start with one of these (empty: webhooks.allowed_prefixes)."},
    )

    def secrets(self) -> list[str]:
        """The signing secrets: the listed ones, then those in ``webhook_secrets_env``."""
        extra = os.environ.get(self.webhook_secrets_env, "") if self.webhook_secrets_env else ""
        return [*self.webhook_secrets, *(s.strip() for s in extra.split(",") if s.strip())]


@dataclass
class WebhookSettings:
    """Delivery of job events to callback URLs."""

    timeout_s: float = field(default=10.0, metadata={"help": "Timeout of one delivery attempt, seconds."})
    max_attempts: int = field(default=8, metadata={"help": "Attempts before a delivery is marked failed."})
    max_age_s: float = field(default=24 * 3600.0, metadata={"help": "No retry later than this after the event."})
    base_delay_s: float = field(default=2.0, metadata={"help": "First retry delay; doubles each attempt."})
    max_delay_s: float = field(default=600.0, metadata={"help": "Longest delay between attempts (Retry-After too)."})
    require_https: bool = field(default=True, metadata={"help": "Refuse plain http:// callback URLs."})
    allowed_prefixes: list[str] = field(
        default_factory=list, metadata={"help": "Callback URLs must start with one of these (empty: any public)."}
    )
    allow_private: bool = field(
        default=False, metadata={"help": "Allow loopback / private / link-local callback targets (test rigs only)."}
    )
    allow_hosts: list[str] = field(
        default_factory=list,
        metadata={"help": "Hosts or IPs allowed even though private or loopback (e.g. 127.0.0.1 in tests)."},
    )


@dataclass
class JobsConfig:
    """The jobs wing: store, workers, limits, clients, webhooks."""

    store: str = field(
        default="sqlite:///creative4u-jobs.db",
        metadata={"help": "SQLAlchemy URL: sqlite:///path.db or postgresql+psycopg://user@host/db."},
    )
    lease_s: float = field(default=60.0, metadata={"help": "A worker's claim on a job lasts this long unrenewed."})
    poll_s: float = field(default=0.5, metadata={"help": "Idle worker's wait between looks at the queue."})
    max_claims: int = field(default=5, metadata={"help": "Claims of one job (crashes) before it is marked failed."})
    max_images: int = field(default=64, metadata={"help": "Most images in one job."})
    max_image_bytes: int = field(default=10 * 1024 * 1024, metadata={"help": "Largest image file, bytes (413)."})
    max_image_pixels: int = field(default=25_000_000, metadata={"help": "Largest image, width x height (413)."})
    max_text_chars: int = field(default=4000, metadata={"help": "Longest title + queries of a job."})
    cache_dir: str | None = field(default=None, metadata={"help": "On-disk cache of check measurements."})
    default_client: str = field(default="default", metadata={"help": "Client of a job that names none."})
    clients: dict[str, ClientSettings] = field(
        default_factory=lambda: {"default": ClientSettings()}, metadata={"help": "Settings per client id."}
    )
    webhooks: WebhookSettings = field(default_factory=WebhookSettings, metadata={"help": "Callback delivery."})
    key_clients: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "API key label -> the one client whose jobs that key submits, lists and reads (a label "
                          "that is itself a configured client id is bound to that client without an entry)."},
    )  # fmt: skip
    admin_keys: list[str] = field(
        default_factory=list, metadata={"help": "API key labels that may submit for and see every client's jobs."}
    )

    def client(self, name: str | None) -> ClientSettings:
        """The settings of ``name`` (None: the default client); :class:`UnknownClientError` when not configured."""
        key = name or self.default_client
        if key not in self.clients:
            raise UnknownClientError(f"unknown client {key!r}; configured clients: {', '.join(sorted(self.clients))}")
        return self.clients[key]

    def key_client(self, label: str) -> str | None:
        """The client an API key label is bound to; None for an admin label (every client).

        >>> JobsConfig(key_clients={"shop-key": "default"}, admin_keys=["ops"]).key_client("shop-key")
        'default'
        >>> JobsConfig().key_client("key-1234abcd")
        Traceback (most recent call last):
        ...
        creative4u.jobs.settings.KeyNotBoundError: API key 'key-1234abcd' is bound to no client: \
name it in the jobs config's key_clients or admin_keys
        """
        if label in self.admin_keys:
            return None
        if label in self.key_clients:
            return self.key_clients[label]
        if label in self.clients:
            return label
        raise KeyNotBoundError(f"API key {label!r} is bound to no client: name it in the jobs config's key_clients "
                               "or admin_keys")  # fmt: skip

    def client_id(self, name: str | None) -> str:
        self.client(name)
        return name or self.default_client

    def validate(self) -> JobsConfig:
        """Raise ValueError naming the field when a setting cannot work."""
        if self.default_client not in self.clients:
            raise ValueError(f"default_client {self.default_client!r} is not in clients: {sorted(self.clients)}")
        for key in ("lease_s", "poll_s", "max_claims", "max_images", "max_image_bytes", "max_image_pixels"):
            if getattr(self, key) <= 0:
                raise ValueError(f"{key} must be > 0, got {getattr(self, key)}")
        w = self.webhooks
        if w.max_attempts < 1 or w.base_delay_s < 0 or w.max_delay_s < w.base_delay_s:
            raise ValueError("webhooks: need max_attempts >= 1 and 0 <= base_delay_s <= max_delay_s")
        for label, client in self.key_clients.items():
            if client not in self.clients:
                raise ValueError(f"key_clients.{label}: unknown client {client!r}; clients: {sorted(self.clients)}")
        for name, c in self.clients.items():
            for secret in c.webhook_secrets:
                if not secret.startswith("whsec_"):
                    raise ValueError(f"clients.{name}.webhook_secrets: a secret must start with 'whsec_'")
        return self


def load_jobs_config(path: str | Path | None = None, overrides: list[Any] | None = None) -> JobsConfig:
    """Read the YAML file (when given), apply dotted overrides, build and validate the config."""
    where = str(path) if path else "jobs config"
    return load_config(JobsConfig, path, overrides or (), where=where).validate()
