"""Image forensics: error-level analysis, noise-residual inconsistency, spectral upsampling peaks, copy-move.

>>> from PIL import Image
>>> from creative4u.images import LoadedImage
>>> report = Forensics().run(LoadedImage.from_pil(Image.new("RGB", (1, 1))))
>>> report.status, sorted(report.values["signals"])
('ok', ['copy_move', 'ela', 'noise', 'spectral'])

Each signal is a score in [0, 1] with a map a person can look at (ELA heat map, noise-inconsistency map, the
normalised spectrum, matched copy-move regions). The scores are *guesses*: they are calibrated so that ordinary
camera photos stay below 0.5 (measured false-flag rate in ``benchmarks/eval_check_suite.py``) and only a strong,
spatially coherent anomaly passes it. Provenance (a file that declares its own origin) always outranks them; see
:mod:`creative4u.checks.ai_image`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import cv2
import numpy as np
from scipy import ndimage

from creative4u.checks.base import Check, Evidence, Measurement, heatmap_evidence
from creative4u.images import LoadedImage

WORK_SIDE = 1024  # every signal runs on at most this many pixels per side (the 300 ms budget)
BLOCK = 16  # ELA / noise statistics per BLOCK x BLOCK pixels
_CACHE: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_WINDOWS: dict[tuple[str, int], np.ndarray] = {}


def _logistic(x: float, mid: float, width: float) -> float:
    """Smooth 0..1 map: 0.5 at ``mid``; ``width`` is the distance from 0.5 to ~0.73."""
    return float(1.0 / (1.0 + np.exp(-(x - mid) / max(width, 1e-9))))


def block_view(arr: np.ndarray, block: int) -> np.ndarray:
    """Crop to whole blocks and reshape to (rows, cols, block, block).

    >>> block_view(np.zeros((33, 40)), 16).shape
    (2, 2, 16, 16)
    """
    h, w = (arr.shape[0] // block) * block, (arr.shape[1] // block) * block
    return arr[:h, :w].reshape(h // block, block, w // block, block).swapaxes(1, 2)


def outlier_component(z: np.ndarray, valid: np.ndarray, z_min: float) -> tuple[float, float, np.ndarray]:
    """Largest 8-connected group of blocks with ``z >= z_min``: (share of valid blocks, mean z, its mask)."""
    hot = (z >= z_min) & valid
    if not hot.any():
        return 0.0, 0.0, hot
    labels, n = ndimage.label(hot, structure=np.ones((3, 3)))
    sizes = ndimage.sum(hot, labels, index=np.arange(1, n + 1))
    best = int(np.argmax(sizes)) + 1
    mask = labels == best
    return float(mask.sum() / max(valid.sum(), 1)), float(z[mask].mean()), mask


def robust_z(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(x - median) / (1.4826 MAD) over the valid entries; 0 elsewhere."""
    v = values[valid]
    if v.size < 8:
        return np.zeros_like(values)
    med = float(np.median(v))
    mad = float(np.median(np.abs(v - med))) * 1.4826 + 1e-6
    return np.where(valid, (values - med) / mad, 0.0)


def error_level(gray: np.ndarray, quality: int = 90) -> np.ndarray:
    """Per-pixel error level: luma difference after one JPEG re-save at ``quality`` (luma only: 3x cheaper, and
    pasted content shows in luma as much as in colour)."""
    g8 = np.clip(gray + 0.5, 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", g8, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return np.zeros(gray.shape[:2], np.float32)
    resaved = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
    return np.abs(g8.astype(np.int16) - resaved.astype(np.int16)).astype(np.float32)


def ela_signal(gray: np.ndarray) -> dict[str, Any]:
    """Error-level analysis. Texture raises the error level everywhere, so each block's level is compared with
    what its own texture predicts; a coherent region that re-compresses far worse than predicted (content pasted
    from another compression history) scores high."""
    ela = error_level(gray)
    if min(ela.shape) < 4 * BLOCK:
        return {"score": 0.0, "map": ela, "note": "image too small for ELA"}
    level = block_view(ela, BLOCK).mean(axis=(2, 3))
    texture = block_view(np.abs(cv2.Laplacian(gray, cv2.CV_32F)), BLOCK).mean(axis=(2, 3))
    valid = texture > 0.5  # flat blocks carry no error-level information
    ratio = np.log((level + 0.5) / (texture + 2.0))
    z = robust_z(ratio, valid)
    share, zmean, mask = outlier_component(z, valid, 3.5)
    score = _logistic(share * max(zmean - 3.5, 0.0), 0.12, 0.03) if share >= 0.01 else 0.0
    return {"score": score, "map": ela, "region_share": round(share, 4), "region_z": round(zmean, 2),
            "region_box": _mask_box(mask, BLOCK)}


def noise_sigma_map(gray: np.ndarray, block: int = 2 * BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Per-block noise sigma from the finest diagonal wavelet band (Donoho's MAD estimator), and which blocks are
    flat enough for it to measure noise rather than texture."""
    g = np.ascontiguousarray(gray[: gray.shape[0] // 2 * 2, : gray.shape[1] // 2 * 2], dtype=np.float32)
    hh = (g[0::2, 0::2] - g[0::2, 1::2] - g[1::2, 0::2] + g[1::2, 1::2]) / 2.0  # Haar HH at half resolution
    # Mean absolute HH (x sqrt(pi/2) = sigma for Gaussian noise): the median is quantised to 0.5 steps on 8-bit
    # data and reads 0 on clean low-noise photos; flat blocks only, so edges do not inflate the mean.
    sigma = block_view(np.abs(hh), block // 2).mean(axis=(2, 3)) * 1.2533
    smooth = cv2.GaussianBlur(g, (0, 0), 2.0)
    grad = cv2.magnitude(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    grad_b = block_view(grad, block).mean(axis=(2, 3))
    lum = block_view(g, block).mean(axis=(2, 3))
    rows, cols = min(sigma.shape[0], grad_b.shape[0]), min(sigma.shape[1], grad_b.shape[1])
    sigma, grad_b, lum = sigma[:rows, :cols], grad_b[:rows, :cols], lum[:rows, :cols]
    flat = (grad_b <= np.percentile(grad_b, 60)) & (lum > 16) & (lum < 240)  # clipped areas have no noise
    return sigma, flat


def noise_signal(gray: np.ndarray) -> dict[str, Any]:
    """Noise-residual inconsistency: camera noise is spatially uniform for a given brightness, so a coherent region
    far smoother than the rest (inpainted, generated, pasted from a denoised source) stands out. Images with
    little measurable noise anywhere (denoised, heavily compressed) are not judged: there is nothing to compare."""
    if min(gray.shape) < 8 * BLOCK:
        return {"score": 0.0, "map": np.zeros((1, 1)), "note": "image too small for noise analysis"}
    sigma, flat = noise_sigma_map(gray)
    typical = float(np.median(sigma[flat])) if flat.sum() >= 16 else 0.0
    if typical < 1.0:
        return {"score": 0.0, "map": sigma, "note": "too little noise to compare regions", "median_sigma": typical}
    ratio = sigma / typical
    # z counts how many "halvings" below typical a block is; 1.0 = half the typical noise.
    z = np.where(flat, -np.log2(np.maximum(ratio, 1e-3)), 0.0)
    share, zmean, mask = outlier_component(z, flat, 1.5)
    # share x mean halvings: a third of the flat area at 1.5 halvings below typical reaches 0.5. Skies in
    # compressed landscapes are the known false alarm (JPEG removes their noise first).
    score = _logistic(share * zmean, 0.5, 0.05) if share >= 0.04 else 0.0
    return {"score": score, "map": z.clip(0, None), "region_share": round(share, 4), "region_z": round(zmean, 2),
            "median_sigma": round(typical, 3), "region_box": _mask_box(mask, 2 * BLOCK)}


# Frequencies (cycles/pixel) where interpolation leaves peaks: upscaling by k repeats its kernel every k pixels.
RESAMPLING_FREQS = (1 / 2, 1 / 3, 1 / 4, 1 / 5, 2 / 5, 1 / 6, 3 / 8, 1 / 8)


def spectral_signal(gray: np.ndarray, is_jpeg: bool) -> dict[str, Any]:
    """Periodic peaks of the high-pass residual at interpolation frequencies, present on *both* axes (resampling
    and generative upsampling are separable; a fence or a fabric is periodic in one direction). For JPEG files the
    8-px block-grid frequencies are skipped, since compression puts peaks there by itself."""
    side = min(512, gray.shape[0], gray.shape[1]) // 2 * 2
    if side < 64:
        return {"score": 0.0, "map": np.zeros((1, 1)), "note": "image too small for spectral analysis"}
    y0, x0 = (gray.shape[0] - side) // 2, (gray.shape[1] - side) // 2
    patch = np.ascontiguousarray(gray[y0 : y0 + side, x0 : x0 + side], dtype=np.float32)
    # Interpolation makes neighbour differences periodic in size (0.25/0.5/0.25... for bilinear, 0/x for nearest):
    # the spectrum of |d/dx| peaks at the interpolation frequency along x, that of |d/dy| along y.
    norm_x = _norm_spectrum(np.abs(np.diff(patch, axis=1, append=patch[:, -1:])))
    norm_y = _norm_spectrum(np.abs(np.diff(patch, axis=0, append=patch[-1:, :])))
    norm = np.maximum(norm_x, norm_y)
    # A JPEG history survives re-saving as PNG: a period-8 peak on both axes marks the block grid.
    # (1/4 and 1/2 are left out of the test: they are also the 4x / 2x upsampling frequencies.)
    grid = is_jpeg or any(min(_axis_peak(norm_x, f, 1), _axis_peak(norm_y, f, 0)) > 1.0 for f in (1 / 8, 3 / 8))
    freqs = [f for f in RESAMPLING_FREQS if not (grid and abs(f * 8 - round(f * 8)) < 1e-6)]
    peaks = {round(1 / f, 2): min(_axis_peak(norm_x, f, 1), _axis_peak(norm_y, f, 0)) for f in freqs}
    period = max(peaks, key=peaks.get) if peaks else 0.0
    peak = peaks.get(period, 0.0)
    score = _logistic(peak, 1.5, 0.15)
    return {"score": score, "map": np.clip(norm, 0, None), "peak": round(peak, 3), "period_px": period,
            "peaks": {str(k): round(v, 3) for k, v in peaks.items()}, "jpeg_grid_excluded": bool(grid)}


def _window(side: int) -> np.ndarray:
    key = ("window", side)
    if key not in _WINDOWS:
        _WINDOWS[key] = np.outer(np.hanning(side), np.hanning(side)).astype(np.float32)
    return _WINDOWS[key]


def _norm_spectrum(pmap: np.ndarray) -> np.ndarray:
    """Log magnitude spectrum (DC centred) minus its local 9x9 mean: isolated peaks stand out, content does not."""
    side = pmap.shape[0]
    pmap = (pmap - pmap.mean()).astype(np.float32)
    spec = cv2.magnitude(*cv2.split(cv2.dft(pmap * _window(side), flags=cv2.DFT_COMPLEX_OUTPUT)))
    logspec = np.log1p(np.fft.fftshift(spec))
    return logspec - cv2.blur(logspec, (9, 9), borderType=cv2.BORDER_REFLECT_101)


def _axis_peak(norm: np.ndarray, f: float, axis: int) -> float:
    """Peak of ``norm`` at frequency ``f`` on one axis (1: horizontal frequencies, 0: vertical), +-1 bin, both
    signs (the spectrum of a real signal is symmetric; at Nyquist only the negative bin exists)."""
    side = norm.shape[0]
    c = side // 2
    k = min(int(round(f * side)), c)
    best = -np.inf
    for pos in {c - k, min(c + k, side - 1)}:
        lo, hi = max(pos - 1, 0), min(pos + 2, side)
        strip = norm[c - 1 : c + 2, lo:hi] if axis == 1 else norm[lo:hi, c - 1 : c + 2]
        best = max(best, float(strip.max()))
    return best


def copy_move_signal(gray: np.ndarray) -> dict[str, Any]:
    """Copy-move: ORB keypoints matched against the same image; a large group of matches sharing one geometric
    transform between two distinct regions means a region was duplicated."""
    empty = {"score": 0.0, "pairs": [], "inliers": 0}
    if min(gray.shape) < 64:
        return {**empty, "note": "image too small for copy-move"}
    g8 = np.clip(gray, 0, 255).astype(np.uint8)
    orb = cv2.ORB_create(nfeatures=2000, fastThreshold=10)
    kps, desc = orb.detectAndCompute(g8, None)
    if desc is None or len(kps) < 20:
        return empty
    matches = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc, desc, k=4)
    pts = np.array([k.pt for k in kps], np.float32)
    min_shift = max(20.0, 0.04 * max(gray.shape))
    src, dst = _distinct_matches(matches, pts, min_shift)
    return _copy_move_geometry(src, dst, min_shift) if len(src) >= 8 else empty


def _distinct_matches(matches: list, pts: np.ndarray, min_shift: float) -> tuple[np.ndarray, np.ndarray]:
    """For each keypoint, its nearest *other* keypoint at least ``min_shift`` away, kept when the descriptors are
    near-identical (a duplicated patch) and clearly closer than the next candidate (not a repeated texture)."""
    rows = [m for m in matches if len(m) == 4]
    if not rows:
        return np.empty((0, 2)), np.empty((0, 2))
    q = np.array([[c.queryIdx for c in m] for m in rows])
    t = np.array([[c.trainIdx for c in m] for m in rows])
    d = np.array([[c.distance for c in m] for m in rows], np.float32)
    far = np.linalg.norm(pts[q] - pts[t], axis=2) > min_shift
    far[:, 0] &= t[:, 0] != q[:, 0]  # the first neighbour is usually the keypoint itself
    first = np.argmax(far, axis=1)
    has = far.any(axis=1)
    idx = np.arange(len(rows))
    best = d[idx, first]
    # The runner-up among the other *distant* candidates: near ones are the same spot at another pyramid level.
    other = np.where((np.arange(d.shape[1])[None, :] != first[:, None]) & far, d, np.inf).min(axis=1)
    keep = has & (best <= 24) & (best <= 0.6 * other)
    return pts[q[idx, first][keep]], pts[t[idx, first][keep]]


def _copy_move_geometry(src: np.ndarray, dst: np.ndarray, min_shift: float) -> dict[str, Any]:
    """Keep matches consistent with one similarity transform (RANSAC); each pair is counted once."""
    keep = [i for i in range(len(src)) if tuple(src[i]) < tuple(dst[i])]  # a->b and b->a are the same pair
    src, dst = src[keep], dst[keep]
    if len(src) < 8:
        return {"score": 0.0, "pairs": [], "inliers": 0}
    model, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    if model is None:
        return {"score": 0.0, "pairs": [], "inliers": 0}
    inl = inl.ravel().astype(bool)
    s, d = src[inl], dst[inl]
    shift = float(np.median(np.linalg.norm(d - s, axis=1))) if len(s) else 0.0
    spread = float(np.sqrt(np.prod(np.ptp(s, axis=0) + 1))) if len(s) else 0.0
    n = int(inl.sum()) if shift > min_shift and spread > 12 else 0
    score = _logistic(n, 13.0, 2.0) if n >= 8 else 0.0  # a bridge's repeated cables gave 12
    pairs = [[float(a[0]), float(a[1]), float(b[0]), float(b[1])] for a, b in zip(s, d, strict=False)][:200]
    return {"score": score, "pairs": pairs if n else [], "inliers": n, "shift_px": round(shift, 1),
            "source_box": _pts_box(s) if n else None, "target_box": _pts_box(d) if n else None}


def _pts_box(p: np.ndarray) -> list[float]:
    return [float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())]


def _mask_box(mask: np.ndarray, block: int) -> list[int] | None:
    if not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    return [int(xs.min() * block), int(ys.min() * block), int((xs.max() + 1) * block), int((ys.max() + 1) * block)]


def analyse_forensics(img: LoadedImage, max_side: int = 2 * WORK_SIDE) -> dict[str, Any]:
    """All four signals for one image, memoised by file hash (the combined ai_image check reuses them).

    ELA, noise and the spectrum need the file's own pixels: they run at full resolution up to ``max_side`` (a
    larger image is resampled, which weakens compression traces; ``resampled`` says so). Copy-move runs on
    ``WORK_SIDE`` px.
    """
    key = (img.sha256, str(max_side))
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    gray = img.gray(max_side)
    # Below WORK_SIDE both sizes are the same pixels: reuse the array instead of converting the image twice.
    small = gray if max(img.size) <= WORK_SIDE else img.gray(WORK_SIDE)
    signals = {
        "ela": ela_signal(gray),
        "noise": noise_signal(gray),
        "spectral": spectral_signal(gray, img.format == "JPEG"),
        "copy_move": copy_move_signal(small),
    }
    result = {"signals": signals, "scale_full": img.size[0] / gray.shape[1],
              "scale_small": img.size[0] / small.shape[1],
              "resampled": max(img.size) > max_side}
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > 64:
            _CACHE.popitem(last=False)
    return result


def forensic_evidence(result: dict[str, Any]) -> list[Evidence]:
    """Heat maps (ELA, noise inconsistency, spectrum), suspicious-region boxes and copy-move matches."""
    sig, sf, ss = result["signals"], result["scale_full"], result["scale_small"]
    out = [
        heatmap_evidence(_small(sig["ela"]["map"]), f"ELA heat map (score {sig['ela']['score']:.2f})"),
        heatmap_evidence(_small(sig["noise"]["map"]), f"noise inconsistency, smoother than typical (score "
                                                      f"{sig['noise']['score']:.2f})"),
    ]
    spec = heatmap_evidence(_small(sig["spectral"]["map"]),
                            f"residual spectrum (score {sig['spectral']['score']:.2f})")
    spec.data["overlay"] = False  # a spectrum is not laid over the picture: it is shown beside it
    out.append(spec)
    boxes, labels = [], []
    for name in ("ela", "noise"):
        box = sig[name].get("region_box")
        if box and sig[name]["score"] >= 0.25:
            boxes.append([round(v * sf) for v in box])
            labels.append(f"{name} region")
    if boxes:
        out.append(Evidence("boxes", {"boxes": boxes, "labels": labels}, "suspicious regions"))
    cm = sig["copy_move"]
    if cm.get("pairs"):
        pairs = [[round(v * ss, 1) for v in p] for p in cm["pairs"]]
        regions = [[round(v * ss) for v in cm[k]] for k in ("source_box", "target_box")]
        out.append(Evidence("matches", {"pairs": pairs, "boxes": regions, "labels": ["source", "copy"]},
                            f"copy-move: {cm['inliers']} matched keypoints"))
    return out


def _small(arr: np.ndarray, side: int = 256) -> np.ndarray:
    """Area-downscale a map before encoding it (the report keeps 256 px; encoding a full map costs ~30 ms)."""
    arr = np.asarray(arr, np.float32)
    if arr.ndim != 2 or max(arr.shape) <= side:
        return arr
    scale = side / max(arr.shape)
    size = (max(1, round(arr.shape[1] * scale)), max(1, round(arr.shape[0] * scale)))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


def forensic_values(result: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready numbers per signal (maps and match lists stay in the evidence)."""
    values = {}
    for name, sig in result["signals"].items():
        values[name] = {k: v for k, v in sig.items() if k not in ("map", "pairs")}
        values[name]["score"] = round(float(sig["score"]), 4)
    return {"signals": values, "resampled": result["resampled"]}


class Forensics(Check):
    """Forensic signals of editing or generation: ELA, noise inconsistency, spectral peaks, copy-move.

    Score = the strongest signal. Each signal is calibrated to stay under 0.5 on ordinary camera photos; none of
    them proves anything alone: the evidence maps are for a person to look at.
    """

    name = "forensics"
    option_names = ()
    description = "Forensics: error-level analysis, noise inconsistency, spectral upsampling peaks, copy-move."
    default_threshold = 0.5
    version = "1"

    def measure(self, img: LoadedImage) -> Measurement:
        result = img.shared("forensics", lambda: analyse_forensics(img))  # ai_image needs it too
        values = forensic_values(result)
        scores = {k: v["score"] for k, v in values["signals"].items()}
        top = max(scores, key=scores.get)
        summary = ", ".join(f"{k} {v:.2f}" for k, v in scores.items())
        summary = f"strongest forensic signal: {top} ({scores[top]:.2f}); {summary}"
        return Measurement(scores[top], values, forensic_evidence(result), summary)
