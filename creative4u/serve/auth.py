"""API keys and the per-key concurrency limit.

>>> keys = ApiKeys({"c4u-secret": "acme"})
>>> keys.identify("Bearer c4u-secret"), keys.identify("Bearer wrong"), keys.identify(None)
('acme', None, None)
>>> limiter = ConcurrencyLimiter(limit=1)
>>> limiter.try_acquire("acme"), limiter.try_acquire("acme")
(True, False)
>>> limiter.release("acme"); limiter.try_acquire("acme")
True

Keys come from a file (one per line, optionally ``label key``) and/or an environment variable (comma-separated).
A key's *label* (or, without one, a short hash of it) names the caller in logs and metrics; the key itself is never
logged. Keys are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from pathlib import Path


def key_label(key: str) -> str:
    """A stable, non-secret name for a key without a label.

    >>> key_label("c4u-secret")
    'key-729f687a'
    """
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]


def parse_keys_text(text: str, source: str = "keys") -> dict[str, str]:
    """Parse a keys file: ``key`` or ``label key`` per line; ``#`` starts a comment.

    >>> parse_keys_text("# team keys\\nacme c4u-aaaaaaaa\\nc4u-bbbbbbbb  # no label\\n")
    {'c4u-aaaaaaaa': 'acme', 'c4u-bbbbbbbb': 'key-e537d8db'}
    """
    keys: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        if len(parts) > 2:
            raise ValueError(f"{source}:{lineno}: expected 'key' or 'label key', got {len(parts)} fields")
        key = parts[-1]
        if len(key) < 8:
            raise ValueError(f"{source}:{lineno}: API key too short (< 8 characters)")
        keys[key] = parts[0] if len(parts) == 2 else key_label(key)
    return keys


class ApiKeys:
    """The set of valid keys, mapping each key to its label."""

    def __init__(self, keys: dict[str, str] | None = None) -> None:
        self._keys = dict(keys or {})

    @classmethod
    def load(cls, file: str | None = None, env: str | None = None) -> ApiKeys:
        """Keys from ``file`` plus the comma-separated keys in environment variable ``env``."""
        keys: dict[str, str] = {}
        if file:
            path = Path(file)
            if not path.is_file():
                raise FileNotFoundError(f"API keys file {path} not found")
            keys.update(parse_keys_text(path.read_text(), str(path)))
        if env and os.environ.get(env):
            keys.update(parse_keys_text(os.environ[env].replace(",", "\n"), f"${env}"))
        return cls(keys)

    def __len__(self) -> int:
        return len(self._keys)

    def identify(self, authorization: str | None) -> str | None:
        """The label of the key in an ``Authorization: Bearer <key>`` header, or None if it is not valid."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        found = None
        for key, label in self._keys.items():  # check every key: timing does not reveal which prefix matched
            if hmac.compare_digest(key.encode(), token.encode()):
                found = label
        return found


class ConcurrencyLimiter:
    """Counts requests in flight per caller and refuses one past ``limit`` (the gateway answers 429)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()  # the demo calls from Gradio's threads, the API from the event loop

    def try_acquire(self, caller: str) -> bool:
        with self._lock:
            n = self._in_flight.get(caller, 0)
            if n >= self.limit:
                return False
            self._in_flight[caller] = n + 1
            return True

    def release(self, caller: str) -> None:
        with self._lock:
            n = self._in_flight.get(caller, 0) - 1
            if n <= 0:
                self._in_flight.pop(caller, None)
            else:
                self._in_flight[caller] = n

    def in_flight(self, caller: str) -> int:
        with self._lock:
            return self._in_flight.get(caller, 0)
