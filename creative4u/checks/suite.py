"""Run a profile's checks on images, once per image content, and apply the ensemble rule.

>>> from PIL import Image
>>> from creative4u.images import LoadedImage
>>> suite = CheckSuite("default")
>>> screen = suite.screen(LoadedImage.from_pil(Image.new("RGB", (64, 64), "gray"), name="flat.png"))
>>> screen.approved, "contrast" in screen.flagged
(False, True)

The ensemble rule: an image is *approved* only if no enabled check flags it; it is *vetoed* (cannot win a
selection) when a check marked ``veto`` flags it. Measurements are cached by (file hash, check, options) in this
process and, when ``cache_dir`` is given, on disk as JSON, so an image is measured once. Errors are cached nowhere
(they may be transient), so a failed check is retried on the next call.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from creative4u.checks import get_check
from creative4u.checks.base import Check, CheckReport, Evidence, Measurement, RequestContext
from creative4u.checks.profile import CheckProfile, load_profile
from creative4u.images import LoadedImage


@dataclass
class ImageScreen:
    """All check reports for one image and the ensemble decision."""

    name: str
    sha256: str
    size: tuple[int, int]
    reports: dict[str, CheckReport]
    approved: bool
    vetoed: bool
    reasons: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_dict(self, evidence: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "reports"}
        out["size"] = list(self.size)
        out["checks"] = {n: r.to_dict(evidence=evidence) for n, r in self.reports.items()}
        return out


class _MemoryCache:
    """A bounded, thread-safe LRU of measurements shared by every suite in the process."""

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self._data: OrderedDict[tuple[str, str], tuple[Measurement | None, str | None, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> tuple[Measurement | None, str | None, float] | None:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: tuple[str, str], value: tuple[Measurement | None, str | None, float]) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


MEMORY_CACHE = _MemoryCache()


class CheckSuite:
    """The enabled checks of a profile, with caching and the approve/veto rule."""

    def __init__(self, profile: str | Path | CheckProfile = "default", cache_dir: str | Path | None = None) -> None:
        self.profile = load_profile(profile)
        self.checks: dict[str, Check] = {}
        self.veto: set[str] = set()
        for name, settings in self.profile.enabled().items():
            self.checks[name] = get_check(name, threshold=self.profile.threshold_of(name), **settings.options)
            if settings.veto:
                self.veto.add(name)
        self.cache_dir = Path(cache_dir) if cache_dir else None

    @staticmethod
    def _key(check: Check, context: RequestContext | None) -> str:
        # Only checks that read the request put it in their key, so other checks' cache entries stay valid.
        return check.cache_key(context) if check.uses_context else check.cache_key()

    def _disk_path(self, sha: str, key: str) -> Path | None:
        if self.cache_dir is None:
            return None
        safe = "".join(c if c.isalnum() or c in "@-_." else "_" for c in key)
        return self.cache_dir / sha[:2] / f"{sha}.{safe}.json"

    def _measure(self, img: LoadedImage, check: Check, context: RequestContext | None = None,
                 peers: list[LoadedImage] | None = None) -> CheckReport:
        if check.uses_peers:  # depends on the other candidates: measured each time (its inputs are memoised)
            return check.decide(*check.timed_measure(img, context, peers))
        ckey = self._key(check, context)
        key = (img.sha256, ckey)
        hit = MEMORY_CACHE.get(key)
        if hit is None:
            hit = self._from_disk(img.sha256, ckey)
            if hit is not None:
                MEMORY_CACHE.put(key, hit)
        if hit is not None:
            return check.decide(*hit, cached=True)
        result = check.timed_measure(img, context)
        if result[1] is None:  # errors may be transient: cached nowhere, so the next call retries
            MEMORY_CACHE.put(key, result)
            self._to_disk(img.sha256, ckey, result)
        return check.decide(*result)

    def _from_disk(self, sha: str, key: str) -> tuple[Measurement | None, str | None, float] | None:
        path = self._disk_path(sha, key)
        if path is None:
            return None
        try:  # a vanished or half-written file (another worker's) reads as a miss
            raw = json.loads(path.read_text())
            m = raw["measurement"]
            meas = None if m is None else Measurement(**{**m, "evidence": [Evidence(**e) for e in m["evidence"]]})
            return meas, raw["error"], raw["elapsed_ms"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache entry is re-measured, never trusted

    def _to_disk(self, sha: str, key: str, result: tuple[Measurement | None, str | None, float]) -> None:
        path = self._disk_path(sha, key)
        if path is None or result[1] is not None:
            return  # errors are not cached on disk: they may be transient
        payload = {
            "measurement": asdict(result[0]) if result[0] else None,
            "error": result[1],
            "elapsed_ms": result[2],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        # One temp file per writer: gateway workers (threads or processes) storing the same entry must not share it.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps(payload, default=_json_default))
            os.replace(tmp, path)  # atomic: a reader never sees half a file, the last writer wins
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def screen(self, img: LoadedImage, context: RequestContext | None = None,
               peers: list[LoadedImage] | None = None) -> ImageScreen:
        """Run every enabled check on one image; ``context`` is the request's title and queries, ``peers`` the
        request's candidates (this image included) for checks that compare them."""
        # Earlier reports of this screen are visible to later checks (text_match reads the text check's OCR).
        reports: dict[str, CheckReport] = {}
        shared = img.shared("screen-reports", dict)
        for name, check in self.checks.items():
            reports[name] = shared[name] = self._measure(img, check, context, peers)
        flagged = [n for n, r in reports.items() if r.flagged]
        return ImageScreen(
            name=img.name,
            sha256=img.sha256,
            size=img.size,
            reports=reports,
            approved=not flagged,
            vetoed=any(n in self.veto for n in flagged),
            reasons=[f"{n}: {reports[n].summary}" for n in flagged],
            flagged=flagged,
            unavailable=[n for n, r in reports.items() if r.status == "unavailable"],
            errors=[f"{n}: {r.summary}" for n, r in reports.items() if r.status == "error"],
        )

    def screen_many(self, images: list[LoadedImage], context: RequestContext | None = None) -> list[ImageScreen]:
        """Screen the candidates of one request: each image sees the request's context and the others."""
        return [self.screen(img, context, images) for img in images]


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return str(obj)
