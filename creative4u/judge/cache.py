"""A cache of VLM verdicts keyed by (image A, image B, prompt, model): the same question is never paid twice.

>>> from creative4u.judge.base import Verdict
>>> cache = VerdictCache()
>>> key = cache_key("aa" * 32, "bb" * 32, "prompt-hash", "openai:http://x/v1:tiny")
>>> cache.get(key) is None
True
>>> cache.put(key, Verdict("A", 0.9, 0.9, "A is sharper.", "openai", "tiny"))
>>> cache.get(key).winner, cache.get(key).details["cached"], cache.hits
('A', True, 2)

The key holds the two images' content hashes *in order* (A then B: the swapped order is a different question),
the hash of the rendered prompt text (version, title, queries and check data) with the generation settings, and
the model identity (backend, endpoint or path, model or LoRA name). Failed verdicts are never cached: a failure
may be transient. With ``cache_dir`` the verdicts also persist as one JSON file each, written atomically.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from creative4u.judge.base import Verdict


def cache_key(sha_a: str, sha_b: str, prompt_hash: str, model: str) -> str:
    """The cache key of one ordered comparison (a hex digest, safe as a file name)."""
    return hashlib.sha256(json.dumps([sha_a, sha_b, prompt_hash, model]).encode()).hexdigest()


class VerdictCache:
    """A bounded, thread-safe LRU of verdicts in memory, optionally backed by a directory of JSON files."""

    def __init__(self, cache_dir: str | Path | None = None, capacity: int = 4096) -> None:
        self.capacity = int(capacity)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def _path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.json"

    def _from_disk(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            Verdict(**data)  # validates the fields
            return data
        except (OSError, ValueError, TypeError):
            return None  # a damaged entry is asked again, never trusted

    def get(self, key: str) -> Verdict | None:
        """The cached verdict (marked ``details["cached"] = True``), or None."""
        with self._lock:
            data = self._data.get(key)
            if data is not None:
                self._data.move_to_end(key)
        if data is None:
            data = self._from_disk(key)
            if data is not None:
                self._remember(key, data)
        with self._lock:
            if data is None:
                self.misses += 1
                return None
            self.hits += 1
        verdict = Verdict(**json.loads(json.dumps(data)))  # a deep copy: callers may edit what they get
        verdict.details["cached"] = True
        return verdict

    def _remember(self, key: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._data[key] = data
            self._data.move_to_end(key)
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)

    def put(self, key: str, verdict: Verdict) -> None:
        """Store a verdict; failed ones (``parse_status == "failed"``) are skipped."""
        if verdict.parse_status == "failed":
            return
        data = json.loads(json.dumps(asdict(verdict), default=str))
        data["details"].pop("cached", None)
        self._remember(key, data)
        path = self._path(key)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)  # atomic: a reader never sees half a file

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0
