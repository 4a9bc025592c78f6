"""The whole job, shared by the CLI, the API and the demo: load → check → judge → select → explain.

>>> from PIL import Image
>>> import io
>>> def png(color):
...     buf = io.BytesIO(); Image.new("RGB", (32, 32), color).save(buf, "PNG"); return buf.getvalue()
>>> result = Pipeline().check([("red.png", png("red")), ("bad.jpg", b"nope")])
>>> [img["name"] for img in result["images"]], result["errors"][0]["name"]
(['red.png'], 'bad.jpg')
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from creative4u.checks.base import RequestContext
from creative4u.checks.profile import CheckProfile
from creative4u.checks.suite import CheckSuite, ImageScreen
from creative4u.images import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, ImageLoadError, LoadedImage, load_image
from creative4u.judge import resolve_judge
from creative4u.judge.base import Judge, PairInput
from creative4u.selection import Comparison, rank, round_robin

Source = str | os.PathLike | bytes | tuple[str, bytes] | LoadedImage


@dataclass
class PipelineConfig:
    """Settings of a pipeline run (also read from the gateway's YAML config)."""

    profile: str = field(default="default", metadata={"help": "Check profile: a built-in name or a YAML path."})
    backend: str = field(
        default="feature", metadata={"help": "Judge backend: a registered name or alias, or 'module:Class'."}
    )
    backend_options: dict[str, Any] = field(default_factory=dict, metadata={"help": "Options for the backend."})
    strategy: str = field(default="round_robin", metadata={"help": "Pairing strategy: round_robin or tournament."})
    cache_dir: str | None = field(default=None, metadata={"help": "On-disk cache of check measurements."})
    max_bytes: int = field(default=DEFAULT_MAX_BYTES, metadata={"help": "Largest accepted image file, bytes."})
    max_pixels: int = field(default=DEFAULT_MAX_PIXELS, metadata={"help": "Largest accepted image, pixels."})


class Pipeline:
    """Load, screen and judge creatives; every entry point (CLI, API, demo) calls this class.

    ``**overrides`` are :class:`PipelineConfig` fields applied on top of ``config`` (or of the defaults).
    """

    def __init__(self, config: PipelineConfig | None = None, judge: Judge | None = None, **overrides: Any) -> None:
        self.config = _with_overrides(config or PipelineConfig(), overrides)
        profile: str | CheckProfile = self.config.profile
        self.suite = CheckSuite(profile, cache_dir=self.config.cache_dir)
        self._judge = judge

    @property
    def judge(self) -> Judge:
        if self._judge is None:  # built on first use so `check` never loads a VLM
            self._judge = resolve_judge(self.config.backend, self.config.backend_options)
        return self._judge

    def load(self, sources: Sequence[Source]) -> tuple[list[LoadedImage], list[dict[str, str]]]:
        """Load every source; unreadable ones are returned as errors and the rest go on."""
        images, errors = [], []
        for src in sources:
            try:
                images.append(self._load_one(src))
            except ImageLoadError as err:
                errors.append({"name": err.name, "error": err.reason, "message": str(err)})
        return images, errors

    def _load_one(self, src: Source) -> LoadedImage:
        if isinstance(src, LoadedImage):
            return src
        limits = {"max_bytes": self.config.max_bytes, "max_pixels": self.config.max_pixels}
        if isinstance(src, tuple):
            return load_image(src[1], name=src[0], **limits)
        return load_image(src, **limits)

    def check(
        self, sources: Sequence[Source], evidence: bool = True, title: str = "", queries: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Screen images: the structured result of ``creative4u check --json``.

        ``title`` and ``queries`` feed the checks that compare an image with the request (``relevance``,
        ``text_match``); without them those report "not available". The images are one request's candidates
        (``similar`` compares them)."""
        start = time.perf_counter()
        images, errors = self.load(sources)
        screens = self.suite.screen_many(images, RequestContext(title, tuple(queries)))
        return {
            "profile": self.suite.profile.name,
            "images": [s.to_dict(evidence=evidence) for s in screens],
            "errors": errors,
            "elapsed_ms": round((time.perf_counter() - start) * 1000, 1),
        }

    def select(
        self, sources: Sequence[Source], title: str = "", queries: Sequence[str] = (), evidence: bool = False
    ) -> dict[str, Any]:
        """Pick the best creative: the structured result of ``creative4u select --json``."""
        start = time.perf_counter()
        images, errors = self.load(sources)
        if len(images) < 2:
            raise ValueError(
                f"need at least 2 readable images to select, got {len(images)} ({len(errors)} unreadable)"
            )
        screens = self.suite.screen_many(images, RequestContext(title, tuple(queries)))
        result = self.select_screened(images, screens, title, queries, evidence)
        result["errors"] = errors
        result["elapsed_ms"] = round((time.perf_counter() - start) * 1000, 1)
        return result

    def select_screened(
        self, images: Sequence[LoadedImage], screens: Sequence[ImageScreen], title: str = "",
        queries: Sequence[str] = (), evidence: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """Judge and rank images already loaded and screened (``screens[i]`` is ``images[i]``'s); ``select``'s JSON.

        >>> from creative4u.images import load_image
        >>> from PIL import Image
        >>> import io
        >>> def img(c):
        ...     buf = io.BytesIO(); Image.new("RGB", (32, 32), c).save(buf, "PNG")
        ...     return load_image(buf.getvalue(), name=c)
        >>> pipe = Pipeline(); images = [img("red"), img("blue")]
        >>> pipe.select_screened(images, pipe.suite.screen_many(images))["winner"] in ("red", "blue")
        True

        For callers that keep screens (a job worker stores each image's screen as it finishes) and must not screen
        twice; ``errors`` is empty and ``elapsed_ms`` covers the judging only.
        """
        if len(images) != len(screens) or len(images) < 2:
            raise ValueError(f"need 2+ images with one screen each, got {len(images)} images, {len(screens)} screens")
        start = time.perf_counter()
        result = self._select_loaded(list(images), list(screens), title, list(queries))
        result["images"] = [s.to_dict(evidence=evidence) for s in screens]
        result["errors"] = []
        result["elapsed_ms"] = round((time.perf_counter() - start) * 1000, 1)
        return result

    def _select_loaded(
        self, images: list[LoadedImage], screens: list[ImageScreen], title: str, queries: list[str]
    ) -> dict[str, Any]:
        n = len(images)
        vetoed = [i for i, s in enumerate(screens) if s.vetoed]
        competing = [i for i in range(n) if i not in vetoed] or list(range(n))  # all vetoed: all compete

        def make_pair(i: int, j: int) -> PairInput:
            return PairInput(images[i], images[j], screens[i], screens[j], title, queries)

        comparisons = self._judge_pairs(n, competing, make_pair)
        selection = rank(n, competing, comparisons, vetoed)
        names = [img.name for img in images]
        winner = selection.ranking[0]
        return {
            "winner": names[winner],
            "winner_index": winner,
            "ranking": self._ranking_rows(selection, names, screens, vetoed),
            "comparisons": [c.to_dict(names) for c in comparisons],
            "vetoed": [{"index": i, "name": names[i], "reasons": screens[i].reasons} for i in vetoed],
            "all_vetoed": len(vetoed) == n,
            "explanation": explain(winner, names, comparisons, screens, vetoed),
            "backend": self.judge.name,
            "model": self.judge.model_name,
            "judge_calls": selection.judge_calls,  # asked of the judge; cache hits are in cached_verdicts
            "cached_verdicts": selection.cached_verdicts,
            "ties": sum(c.verdict == "tie" for c in comparisons),
            "flips": sum(c.flipped for c in comparisons),
            "title": title,
            "queries": queries,
            "profile": self.suite.profile.name,
        }

    def _judge_pairs(self, n: int, competing: list[int], make_pair: Any) -> list[Comparison]:
        strategy = self.config.strategy
        if strategy == "round_robin" or len(competing) <= 2:
            return round_robin(n, competing, self.judge, make_pair)[0]
        if strategy == "tournament":
            from creative4u.tournament import tournament  # lands with the VLM judge

            return tournament(n, competing, self.judge, make_pair)[0]
        raise ValueError(f"unknown selection strategy {strategy!r}; valid: round_robin, tournament")

    @staticmethod
    def _ranking_rows(selection: Any, names: list[str], screens: list[ImageScreen], vetoed: list[int]) -> list[dict]:
        rows = []
        for pos, i in enumerate(selection.ranking, 1):
            rows.append(
                {
                    "rank": pos,
                    "index": i,
                    "name": names[i],
                    "score": round(selection.scores[i], 4),
                    "wins": selection.wins[i],
                    "approved": screens[i].approved,
                    "vetoed": i in vetoed,
                }
            )
        return rows


def _with_overrides(config: PipelineConfig, overrides: dict[str, Any]) -> PipelineConfig:
    """``config`` with ``overrides`` applied on top (a new object: the caller's config is left as it was)."""
    valid = [f.name for f in fields(PipelineConfig)]
    for key in overrides:
        if key not in valid:
            raise TypeError(f"unknown pipeline setting {key!r}; valid: {', '.join(valid)}")
    return replace(config, **overrides) if overrides else config


def _frame(text: str, name_a: str, name_b: str) -> str:
    return f"[A = {name_a}, B = {name_b}] {text}"


def explain(
    winner: int, names: list[str], comparisons: Sequence[Comparison], screens: list[ImageScreen], vetoed: list[int]
) -> str:
    """One paragraph: who won, the decisive reasons against each rival, and what was vetoed and why."""
    parts = [f"{names[winner]} is the best of {len(names)} creatives."]
    if vetoed and len(vetoed) == len(names):
        parts.append("Every creative failed a hard check, so all of them competed; fix the flagged problems first.")
    for c in comparisons:
        if winner not in (c.a, c.b):
            continue
        other = c.b if c.a == winner else c.a
        outcome = {"tie": "tied with"}.get(c.verdict) or (
            "beat" if (c.verdict == "A") == (c.a == winner) else "lost to"
        )
        reason = _frame(c.rationale, names[c.a], names[c.b])
        parts.append(f"It {outcome} {names[other]} ({c.confidence:.0%} confident): {reason}")
    for i in vetoed:
        if i != winner:
            parts.append(f"{names[i]} was vetoed: {'; '.join(screens[i].reasons)}.")
    return " ".join(parts)


def default_samples() -> list[Path]:
    """The bundled sample creatives used by ``make run`` (``data/samples`` in a clone, else the package copy)."""
    here = Path(__file__).resolve().parent
    for folder in (here.parent / "data" / "samples", here / "samples"):
        found = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
        if found:
            return found
    return []
