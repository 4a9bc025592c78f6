"""Signed job callbacks (Standard Webhooks): URL checks, signing, delivery with bounded retries.

>>> secret = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHM="
>>> headers = sign_headers([secret], "msg_1", '{"ok":true}', timestamp=1_700_000_000)
>>> headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"].startswith("v1,")
('msg_1', '1700000000', True)
>>> retry_delay(3, base_s=2.0, cap_s=600.0, retry_after=None, rand=lambda: 1.0)
8.0
>>> retry_delay(1, base_s=2.0, cap_s=600.0, retry_after="30", rand=lambda: 1.0)  # Retry-After wins when later
30.0

**How a receiver verifies** (any language has a Standard Webhooks library; in Python, ``standardwebhooks``)::

    from standardwebhooks import Webhook
    payload = Webhook("whsec_...").verify(body_bytes, request_headers)   # raises WebhookVerificationError

It recomputes ``base64(HMAC-SHA256(secret, f"{webhook-id}.{webhook-timestamp}.{body}"))``, accepts it when any
of the space-separated ``v1,<sig>`` values in ``webhook-signature`` matches (several while a secret rotates),
and refuses a timestamp more than 5 minutes off (replays). Deduplicate on ``webhook-id``: one event keeps its id
across retries. Reply 2xx when stored; 410 Gone disables the endpoint; anything else is retried with exponential
backoff and jitter (``Retry-After`` honoured), up to ``webhooks.max_attempts`` within ``webhooks.max_age_s``.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from creative4u.jobs.settings import ClientSettings, WebhookSettings
from creative4u.jobs.store import JobStore


class CallbackURLError(ValueError):
    """A callback URL the config does not allow (scheme, prefix, private target)."""


def sign_headers(secrets: list[str], msg_id: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers; one ``v1,`` signature per secret, space-separated."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    when = datetime.fromtimestamp(ts, tz=UTC)
    sigs = " ".join(Webhook(s).sign(msg_id, when, body) for s in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sigs}


def check_callback_url(url: str, client: ClientSettings, hooks: WebhookSettings, resolve: bool = True) -> str:
    """The URL when the config allows it as a callback target, else :class:`CallbackURLError` saying why.

    >>> w = WebhookSettings(allowed_prefixes=["https://hooks.example.com/"])
    >>> check_callback_url("ftp://hooks.example.com/x", ClientSettings(), w)
    Traceback (most recent call last):
    ...
    creative4u.jobs.webhooks.CallbackURLError: callback_url must be https:// (got 'ftp')
    """
    parts = urlsplit(url)
    allowed_schemes = ("https",) if hooks.require_https else ("https", "http")
    if parts.scheme not in allowed_schemes:
        raise CallbackURLError(f"callback_url must be {' or '.join(s + '://' for s in allowed_schemes)} "
                               f"(got {parts.scheme or 'no scheme'!r})")  # fmt: skip
    if not parts.hostname or parts.username or parts.password:
        raise CallbackURLError("callback_url needs a host and no user:password@")
    prefixes = client.callback_prefixes or hooks.allowed_prefixes
    if prefixes and not any(url.startswith(p) for p in prefixes):
        raise CallbackURLError(f"callback_url must start with one of: {', '.join(prefixes)}")
    if resolve:
        check_target_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), hooks)
    return url


def check_target_host(host: str, port: int, hooks: WebhookSettings) -> None:
    """Refuse hosts resolving to loopback, private, link-local or reserved addresses unless configured."""
    if hooks.allow_private or host in hooks.allow_hosts:
        return
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as err:
        raise CallbackURLError(f"callback_url host {host!r} does not resolve ({err.strerror})") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if str(ip) in hooks.allow_hosts:
            continue
        if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or \
                ip.is_unspecified:  # fmt: skip
            raise CallbackURLError(f"callback_url host {host!r} resolves to a private or loopback address ({ip}); "
                                   "set webhooks.allow_hosts to allow it")  # fmt: skip


def retry_delay(
    attempt: int, base_s: float, cap_s: float, retry_after: str | None, rand: Callable[[], float] = random.random
) -> float:
    """Seconds before attempt ``attempt + 1``: ``base * 2**(attempt-1)`` with full jitter in its upper half,
    raised to ``Retry-After`` (seconds or an HTTP date) when the receiver asks for longer, capped at ``cap_s``."""
    backoff = min(cap_s, base_s * 2 ** (attempt - 1)) * (0.5 + 0.5 * rand())
    asked = _retry_after_s(retry_after)
    return min(cap_s, max(backoff, asked or 0.0))


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Deliverer:
    """Sends due deliveries from the store: one attempt each call of :meth:`deliver_due`, results recorded.

    Every worker runs one between jobs; a delivery is claimed first, so two workers never send it at once.
    """

    def __init__(
        self, store: JobStore, hooks: WebhookSettings, secrets_for: Callable[[str], list[str]], worker: str,
        client: Any = None,
    ) -> None:  # fmt: skip
        import httpx

        self.store, self.hooks, self.secrets_for, self.worker = store, hooks, secrets_for, worker
        self.http = client or httpx.Client(timeout=hooks.timeout_s, follow_redirects=False)

    def deliver_due(self, limit: int = 50) -> int:
        """Attempt up to ``limit`` due deliveries; returns how many were attempted."""
        n = 0
        while n < limit:
            item = self.store.claim_delivery(self.worker, hold_s=self.hooks.timeout_s * 3 + 5)
            if item is None:
                break
            self.attempt(item)
            n += 1
        return n

    def attempt(self, item: dict[str, Any]) -> str:
        """One HTTP attempt of a claimed delivery; returns its new status."""
        reason = self.store.endpoint_disabled(item["url"])
        if reason:
            self.store.skip_disabled(item["id"], f"endpoint disabled: {reason}")
            return "disabled"
        job = self.store.get(item["job_id"])
        start = time.perf_counter()
        code, error, retry_after = None, None, None
        try:
            parts = urlsplit(item["url"])  # re-checked at send time: DNS may have changed since submission
            check_target_host(parts.hostname or "", parts.port or 443, self.hooks)
            secrets = self.secrets_for(job.client if job else "")
            if not secrets:
                raise CallbackURLError(f"client {job.client if job else '?'!r} has no webhook secret to sign with")
            headers = {**sign_headers(secrets, item["id"], item["body"]), "content-type": "application/json",
                       "user-agent": "creative4u-webhooks/1"}  # fmt: skip
            resp = self.http.post(item["url"], content=item["body"].encode(), headers=headers)
            code, retry_after = resp.status_code, resp.headers.get("retry-after")
        except CallbackURLError as err:
            error = str(err)
        except Exception as err:  # noqa: BLE001 - any transport failure is a failed attempt, retried later
            error = f"{type(err).__name__}: {err}"[:500]
        return self._settle(item, code, error, retry_after, (time.perf_counter() - start) * 1000)

    def _settle(self, item: dict, code: int | None, error: str | None, retry_after: str | None, ms: float) -> str:
        if code is not None and 200 <= code < 300:
            self.store.record_attempt(item["id"], code, None, ms, "delivered")
            return "delivered"
        if code == 410:
            self.store.disable_endpoint(item["url"], f"HTTP 410 Gone from the receiver at {time.time():.0f}")
            self.store.record_attempt(item["id"], code, "HTTP 410 Gone: endpoint disabled", ms, "disabled")
            return "disabled"
        error = error or f"HTTP {code}"
        attempt = item["attempts"] + 1
        delay = retry_delay(attempt, self.hooks.base_delay_s, self.hooks.max_delay_s, retry_after)
        next_at = time.time() + delay
        expired = next_at - item["created_at"] > self.hooks.max_age_s
        if attempt >= self.hooks.max_attempts or expired:
            self.store.record_attempt(item["id"], code, f"{error}; giving up after {attempt} attempts", ms, "failed")
            return "failed"
        self.store.record_attempt(item["id"], code, error, ms, "pending", next_attempt_at=next_at)
        return "pending"

    def close(self) -> None:
        self.http.close()
