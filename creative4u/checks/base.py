"""Check reports and the base class every check derives from.

>>> from PIL import Image
>>> from creative4u.images import LoadedImage
>>> class Dark(Check):
...     name = "dark_demo"
...     def measure(self, img):
...         mean = float(img.gray(64).mean())
...         return Measurement(score=1 - mean / 255, values={"mean_luma": mean}, summary=f"mean luma {mean:.0f}")
>>> report = Dark(threshold=0.9).run(LoadedImage.from_pil(Image.new("RGB", (8, 8))))
>>> report.flagged, report.score, report.status
(True, 1.0, 'flagged')

A check's ``score`` is the strength of evidence for *its* rejection reason, in [0, 1] (0: no problem seen,
1: certain problem). ``flagged`` is ``score >= threshold``. Thresholds are applied after caching, so changing a
profile never forces an image to be measured again.
"""

from __future__ import annotations

import base64
import io
import time
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from creative4u.images import LoadedImage

Status = Literal["ok", "flagged", "unavailable", "error"]


@dataclass(frozen=True)
class RequestContext:
    """What a request says about the product: checks that compare the image with it set ``uses_context``.

    >>> ctx = RequestContext("Organic cappuccino", ("cappuccino", "coffee gift"))
    >>> ctx.texts(), len(ctx.key()), RequestContext().key()
    (['Organic cappuccino', 'cappuccino', 'coffee gift'], 16, '')
    """

    title: str = ""
    queries: tuple[str, ...] = ()

    def texts(self) -> list[str]:
        """Title then queries, stripped, empty ones and repeats left out."""
        return [t for t in dict.fromkeys(s.strip() for s in (self.title, *self.queries)) if t]

    def key(self) -> str:
        """A short digest for cache keys ('' when there is nothing to compare with)."""
        if not self.texts():
            return ""
        import hashlib

        return hashlib.sha256("\x1f".join([self.title.strip(), *self.queries]).encode()).hexdigest()[:16]


@dataclass
class Evidence:
    """Evidence a person can verify, as plain data: ``kind`` says how to draw ``data``.

    Kinds used across checks: ``boxes`` (``boxes``: [[x0, y0, x1, y1], ...] in original-image pixels, optional
    ``labels``/``scores``), ``heatmap`` (``png``: base64 grayscale PNG, stretched over the whole image),
    ``matches`` (``pairs``: [[x0, y0, x1, y1], ...] segment endpoints), ``bands`` (``top/bottom/left/right``
    widths in pixels), ``metadata`` (free key/values) and ``text`` (untrusted strings found in the image).
    """

    kind: str
    data: dict[str, Any]
    label: str = ""


@dataclass
class Measurement:
    """What a check measured, before a threshold turns it into a decision."""

    score: float
    values: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    summary: str = ""
    available: bool = True


@dataclass
class CheckReport:
    """A check's typed result for one image (JSON-serialisable through :meth:`to_dict`)."""

    check: str
    score: float
    threshold: float
    flagged: bool
    status: Status
    values: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    summary: str = ""
    elapsed_ms: float = 0.0
    cached: bool = False

    def to_dict(self, evidence: bool = True) -> dict[str, Any]:
        out = asdict(self)
        if not evidence:
            out.pop("evidence")
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckReport:
        data = dict(data)
        data["evidence"] = [Evidence(**e) for e in data.get("evidence", [])]
        return cls(**data)


class Check:
    """Base class: subclasses set ``name`` and implement :meth:`measure`.

    ``version`` is part of the cache key: bump it when the measurement changes. Options given to ``__init__``
    (other than the threshold) are part of the key too.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    default_threshold: ClassVar[float] = 0.5
    version: ClassVar[str] = "1"
    # The option names a profile may set for this check. Built-in checks declare them, so a misspelt option in a
    # profile is an error that lists the valid names instead of a silent default; None (not declared) accepts
    # anything, for plug-in checks written before the declaration existed.
    option_names: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, threshold: float | None = None, **options: Any) -> None:
        self.threshold = self.default_threshold if threshold is None else float(threshold)
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"check {self.name!r}: threshold must be in [0, 1], got {self.threshold}")
        unknown = sorted(set(options) - set(self.option_names)) if self.option_names is not None else []
        if unknown:
            valid = ", ".join(sorted(self.option_names or ())) or "none"
            raise ValueError(f"check {self.name!r}: unknown option(s) {', '.join(unknown)}; valid: {valid}")
        self.options = options

    # Checks that read the request (title, queries) set uses_context and implement measure_context; checks that
    # compare the candidates of one request set uses_peers and implement measure_peers (never cached: cheap).
    uses_context: ClassVar[bool] = False
    uses_peers: ClassVar[bool] = False

    def measure(self, img: LoadedImage) -> Measurement:  # pragma: no cover - abstract
        raise NotImplementedError

    def measure_context(self, img: LoadedImage, context: RequestContext) -> Measurement:
        return self.measure(img)

    def measure_peers(self, img: LoadedImage, peers: list[LoadedImage], context: RequestContext) -> Measurement:
        return self.measure_context(img, context)

    def cache_key(self, context: RequestContext | None = None) -> str:
        opts = ",".join(f"{k}={self.options[k]!r}" for k in sorted(self.options))
        ctx = f"|ctx={context.key() if context else ''}" if self.uses_context else ""
        return f"{self.name}@{self.version}[{opts}]{ctx}"

    def timed_measure(self, img: LoadedImage, context: RequestContext | None = None,
                      peers: list[LoadedImage] | None = None) -> tuple[Measurement | None, str | None, float]:
        """Run :meth:`measure`; an exception becomes an error string so one bad check never sinks the others."""
        start = time.perf_counter()
        ctx = context or RequestContext()
        try:
            if self.uses_peers:
                result = self.measure_peers(img, list(peers or [img]), ctx)
            else:
                result = self.measure_context(img, ctx) if self.uses_context else self.measure(img)
            error = None
        except Exception as err:  # noqa: BLE001 - reported as status "error" with the message
            result, error = None, f"{type(err).__name__}: {err}"
        return result, error, (time.perf_counter() - start) * 1000

    def decide(self, m: Measurement | None, error: str | None, elapsed_ms: float, cached: bool = False) -> CheckReport:
        """Turn a measurement into a report under this check's threshold."""
        if m is None:
            return CheckReport(
                self.name, 0.0, self.threshold, False, "error", summary=error or "failed", elapsed_ms=elapsed_ms
            )
        score = float(np.clip(m.score, 0.0, 1.0))
        flagged = m.available and score >= self.threshold
        status: Status = "unavailable" if not m.available else ("flagged" if flagged else "ok")
        summary = m.summary + (threshold_note(score, self.threshold) if m.available else "")
        return CheckReport(
            self.name, score, self.threshold, flagged, status, m.values, m.evidence, summary, elapsed_ms, cached
        )

    def run(self, img: LoadedImage, context: RequestContext | None = None,
            peers: list[LoadedImage] | None = None) -> CheckReport:
        return self.decide(*self.timed_measure(img, context, peers))


def threshold_note(score: float, threshold: float) -> str:
    """What to add to a summary whose verdict (read at the score's 0.5 point) the profile's threshold overrules.

    A check words its summary at 0.5 ("blurred: edge sharpness 0.49"); a profile that flags sharpness only from 0.766
    leaves such a picture approved, and the report must say so rather than contradict itself.

    >>> threshold_note(0.55, 0.766)
    ' (not flagged: score 0.55 is below the threshold 0.766 of this profile)'
    >>> threshold_note(0.018, 0.01), threshold_note(0.9, 0.766), threshold_note(0.2, 0.766)
    (' (flagged: score 0.018 reaches the threshold 0.01 of this profile)', '', '')
    """
    flagged = score >= threshold
    if flagged == (score >= 0.5):
        return ""
    if flagged:
        return f" (flagged: score {score:.2g} reaches the threshold {threshold:.3g} of this profile)"
    return f" (not flagged: score {score:.2f} is below the threshold {threshold:.3g} of this profile)"


def unavailable(reason: str, **values: Any) -> Measurement:
    """A measurement for a check that cannot run here: never read as "safe".

    >>> unavailable("nudenet not installed").available
    False
    """
    return Measurement(score=0.0, values=values, summary=f"not available: {reason}", available=False)


def heatmap_evidence(heat: np.ndarray, label: str = "", max_side: int = 256) -> Evidence:
    """Encode a 2-D map (any range) as a base64 8-bit PNG, downscaled so the report stays small.

    >>> ev = heatmap_evidence(np.eye(4))
    >>> ev.kind, ev.data["shape"]
    ('heatmap', [4, 4])
    """
    from PIL import Image

    arr = np.asarray(heat, dtype=np.float64)
    lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
    norm = np.zeros_like(arr) if hi <= lo else (arr - lo) / (hi - lo)
    im = Image.fromarray((np.nan_to_num(norm) * 255).astype(np.uint8), "L")
    if max(im.size) > max_side:
        im.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    data = {"png": base64.b64encode(buf.getvalue()).decode("ascii"), "shape": [im.height, im.width], "range": [lo, hi]}
    return Evidence("heatmap", data, label)


def decode_heatmap(ev: Evidence) -> np.ndarray:
    """Inverse of :func:`heatmap_evidence` (values in [0, 1])."""
    from PIL import Image

    im = Image.open(io.BytesIO(base64.b64decode(ev.data["png"])))
    return np.asarray(im, dtype=np.float32) / 255.0
