"""Heavy compression: blocking on the 8x8 grid, quantised DCT coefficients, and the file's own quality (JPEG, WebP,
AVIF).

>>> import io
>>> from PIL import Image
>>> from skimage import data
>>> from creative4u.images import load_image
>>> def jpeg(q):
...     buf = io.BytesIO(); Image.fromarray(data.astronaut()).save(buf, "JPEG", quality=q); return buf.getvalue()
>>> check = Compression()
>>> check.measure(load_image(jpeg(8))).score > 0.5 > check.measure(load_image(jpeg(92))).score
True

Three signals, each explainable with a number in the summary:

* ``jpeg_quality``: the IJG quality whose standard luma table is closest to the file's quantisation table (JPEG files
  only; a re-saved file shows its last save, so it is one signal among three); for a lossy WebP file, its VP8 luma
  quantiser (``webp_quantiser``) and the libwebp quality it stands for (``webp_quality``, see :func:`webp_quality`);
  for an AVIF file, its AV1 frame's ``base_q_idx`` (``avif_quantiser``, 0-255, whatever encoder made it);
* ``blockiness``: mean step across 8-px block boundaries over the largest step at the other phases (about 1 without
  a grid; heavy compression 1.7-8), on the file's own pixels;
* ``pixel_quality``: the quality implied by the quantisation steps read back from the pixels' 8x8 DCT coefficients
  (:func:`dct_quant_steps`): it survives a PNG or high-quality re-save of a heavily compressed picture.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from PIL import Image

from creative4u.checks.av1 import avif_quantiser
from creative4u.checks.base import Check, Measurement
from creative4u.checks.quality import logistic, native_luma_crop, pixel_art, shared
from creative4u.checks.quality_measures import blockiness
from creative4u.checks.vp8 import webp_quantiser
from creative4u.images import LoadedImage, luma601

# The IJG (libjpeg) standard luminance quantisation table at quality 50, in natural (row-major) order.
_IJG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], np.float64)
_ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
    21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60,
    61, 54, 47, 55, 62, 63])


def ijg_table(quality: int) -> np.ndarray:
    """The libjpeg luma table for ``quality`` (1-100), natural order.

    >>> int(ijg_table(50)[0]), int(ijg_table(100)[0])
    (16, 1)
    """
    q = min(max(int(quality), 1), 100)
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return np.clip(np.floor((_IJG_LUMA * scale + 50) / 100), 1, 255)


def estimate_jpeg_quality(table: list[int] | np.ndarray, zigzag: bool = True) -> int:
    """The IJG quality whose luma table is closest (relative error) to ``table`` (64 values).

    Pillow's ``quantization`` tables come in zigzag order; pass ``zigzag=False`` for natural order.

    >>> estimate_jpeg_quality(ijg_table(37), zigzag=False), estimate_jpeg_quality(ijg_table(90), zigzag=False)
    (37, 90)
    """
    t = np.asarray(table, np.float64).reshape(-1)[:64]
    natural = np.empty(64)
    if zigzag:
        natural[_ZIGZAG] = t
    else:
        natural = t
    errs = [float(np.abs(np.log(ijg_table(q)) - np.log(np.maximum(natural, 1))).mean()) for q in range(1, 101)]
    return int(np.argmin(errs)) + 1


def file_jpeg_quality(img: LoadedImage) -> int | None:
    """Estimated quality of the file's luma quantisation table; None for a file that is not a JPEG."""
    if img.format != "JPEG":
        return None
    try:
        with Image.open(io.BytesIO(img.data)) as im:
            tables = getattr(im, "quantization", None) or {}
    except Exception:  # noqa: BLE001 - unreadable tables leave this signal out
        return None
    return estimate_jpeg_quality(tables[0]) if 0 in tables else None


# A WebP's luma AC quantiser index (0-127) for each quality setting of libwebp (Pillow's WebP), 0-100 in steps of 5:
# libwebp derives the index from the quality alone (40 clean pictures of the untuned splits read the same index +-1),
# so the setting can be read back from any lossy WebP file.
_WEBP_QI = (127, 102, 92, 85, 78, 73, 68, 64, 59, 55, 52, 48, 45, 42, 39, 36, 27, 20, 12, 6, 0)
_WEBP_QUALITY = tuple(range(0, 101, 5))


def webp_quality(y_ac_qi: float) -> int:
    """The libwebp quality setting (0-100) a lossy WebP was saved with, from its luma AC quantiser index.

    >>> webp_quality(27), webp_quality(78), webp_quality(102)
    (80, 20, 5)
    """
    return int(round(float(np.interp(-y_ac_qi, [-q for q in _WEBP_QI], _WEBP_QUALITY))))


def file_webp_quantiser(img: LoadedImage) -> int | None:
    """The luma AC quantiser index of a lossy WebP file; None for any other file (a lossless WebP included)."""
    if img.format != "WEBP" or not img.data:
        return None
    header = webp_quantiser(img.data)
    return None if header is None else int(header["y_ac_qi"])


def file_avif_quantiser(img: LoadedImage) -> int | None:
    """The AV1 ``base_q_idx`` (0-255) of an AVIF file's primary image; None for any other file or an unreadable
    header."""
    if img.format != "AVIF" or not img.data:
        return None
    header = avif_quantiser(img.data)
    return None if header is None else int(header["base_q_idx"])


_DCT = np.array([[math.sqrt((1 if k == 0 else 2) / 8) * math.cos((2 * n + 1) * k * math.pi / 16) for n in range(8)]
                 for k in range(8)])
_STEP_POSITIONS = ((0, 1), (1, 0), (1, 1))  # low AC frequencies: present in every textured block
_CANDIDATE_STEPS = np.arange(2, 121, dtype=np.float64)
COARSEST_PAIR = 95  # two step readings this coarse with the third unreadable are chance (see consistent_steps)
COARSE_THIRD = 40  # with two readings at the top, the third must be this coarse too (see consistent_steps)


def _block_dct(gray: np.ndarray, offset: int = 0) -> np.ndarray:
    g = gray[offset:, offset:]
    h, w = (g.shape[0] // 8) * 8, (g.shape[1] // 8) * 8
    blocks = g[:h, :w].reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8) - 128.0
    return _DCT @ blocks @ _DCT.T


def dct_quant_steps(gray: np.ndarray, offset: int = 0) -> list[int]:
    """The quantisation step of three low AC coefficients, read from the pixels: the coefficients of a decoded JPEG
    sit on multiples of the step of its table (on its own 8x8 grid only), so the largest step whose comb fits them
    (mean cos(2 pi c / step) > 0.5) is the step that was used; 1 for pixels that were never quantised coarsely.

    >>> from skimage import data
    >>> dct_quant_steps(data.camera().astype(np.float64))
    [1, 1, 1]
    """
    aligned = _block_dct(gray.astype(np.float64), offset)
    shifted = _block_dct(gray.astype(np.float64), offset + 4)  # the control: no quantisation grid there
    out = []
    for u, v in _STEP_POSITIONS:
        on_grid, control = (coef[:, u, v][np.abs(coef[:, u, v]) > 1.0] for coef in (aligned, shifted))
        fit, control_fit = (_comb_cos(c).mean(axis=1) if c.size >= 50 else np.ones(len(_CANDIDATE_STEPS))
                            for c in (on_grid, control))
        # Small coefficients fit any wide comb on both grids; only a fit the shifted grid lacks is a real step, and
        # only one its larger coefficients bear out.
        ok = _CANDIDATE_STEPS[(fit > 0.5) & (fit - control_fit > 0.3) & comb_support(on_grid)]
        out.append(int(ok.max()) if ok.size else 1)
    return out


def _comb_cos(c: np.ndarray) -> np.ndarray:
    """cos(2 pi c / step) for every candidate step (rows) and coefficient (columns): 1 on the step's comb."""
    return np.cos(2 * np.pi * c[None, :] / _CANDIDATE_STEPS[:, None])


MIN_SUPPORT = 5  # distinct values at or above half a candidate step from which they must fit its comb too
# Their mean cos must pass 0.4: on the held-out split's clean pictures saved at q10-30 and re-saved as PNG, 0.5
# lost 1-3 of 67 at each quality and 0.4 none; both clear 54 q88 grids of flat icons (5 of them read heavy before).
SUPPORT_FIT = 0.4


def comb_support(c: np.ndarray) -> np.ndarray:
    """Per candidate step, whether the distinct coefficient values of ``c`` at or above half that step fit its comb
    (mean cos(2 pi c / step) > ``SUPPORT_FIT``); True where fewer than ``MIN_SUPPORT`` are that large.

    Every coarse comb fits a noisy zero, so a fit over all coefficients can rest on the small ones alone: a flat
    graphic's JPEG save leaves many 1-3 wide values, and a q88 grid of icons read a pixel quality of 8-26 (a
    compression veto) while its large edge coefficients sat anywhere on that comb. A decoded JPEG's large
    coefficients sit on multiples of the step.

    >>> c = np.r_[20 * np.arange(1, 41) + np.linspace(-1, 1, 40), np.full(200, 1.5)]
    >>> support = comb_support(c)
    >>> bool(support[18]), bool(support[27])  # step 20: its multiples; step 29: the same values do not fit
    (True, False)
    """
    c = np.unique(np.round(c, 1))  # a straight edge repeats one value block after block: one reading, not twenty
    large = np.abs(c)[None, :] >= _CANDIDATE_STEPS[:, None] / 2
    fit = (_comb_cos(c) * large).sum(axis=1)
    count = large.sum(axis=1)
    return (count < MIN_SUPPORT) | (fit > SUPPORT_FIT * count)


DC_LATTICE_FIT = 0.8  # phase concentration of the block means on their best comb: crushed JPEGs' flat blocks >= 0.85


def flat_blocks_quantised(gray: np.ndarray) -> bool:
    """Whether the 8x8 block means sit on a coarse lattice (a step of 8-40 grey levels, any offset), as JPEG's
    DC quantisation at quality <= ~20 leaves them: when every block of a picture is flat, that lattice is what tells a
    crushed JPEG from content that is flat in 8x8 blocks (pixel art enlarged 8x and saved as a JPEG). Blocks clipped
    at black or white are left out.

    >>> means = 128 + 20 * np.random.default_rng(0).integers(-5, 5, (16, 16)).astype(np.float64)
    >>> art = np.random.default_rng(1).uniform(0, 255, (16, 16))
    >>> flat_blocks_quantised(np.kron(means, np.ones((8, 8)))), flat_blocks_quantised(np.kron(art, np.ones((8, 8))))
    (True, False)
    """
    h, w = (gray.shape[0] // 8) * 8, (gray.shape[1] // 8) * 8
    means = gray[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3)).reshape(-1)
    means = means[(means > 4) & (means < 251)] - 128.0  # a block clipped at black or white left its lattice
    if means.size < 16:
        return False
    fits = [float(np.abs(np.exp(2j * np.pi * means / step).mean())) for step in np.arange(8.0, 40.5, 0.5)]
    return max(fits) >= DC_LATTICE_FIT


def quality_from_steps(steps: list[int]) -> int:
    """The IJG quality whose table has these steps at the three positions (median of the three readings).

    >>> quality_from_steps([18, 20, 21]), quality_from_steps([1, 1, 1])
    (30, 100)
    """
    base = ijg_table(50).reshape(8, 8)
    quals = []
    for (u, v), step in zip(_STEP_POSITIONS, steps, strict=True):
        if step <= 1:
            quals.append(100.0)
            continue
        scale = 100.0 * step / base[u, v]
        quals.append(5000.0 / scale if scale >= 100 else (200.0 - scale) / 2)
    return int(round(float(np.clip(np.median(quals), 1, 100))))


def consistent_steps(steps: list[int]) -> list[int]:
    """The step readings that agree with a JPEG table, for :func:`quality_from_steps`.

    The IJG table quantises the three low frequencies alike (base steps 11, 12, 12), so a true reading has them within
    2x of each other. A smooth graphic's coefficients cluster on a few values, which a comb 2-3x the real step also
    fits (a q70 save of a gradient read [7, 24, 20]): when the readings disagree, the smallest is the lattice. A
    reading at the top of the candidate range fits any handful of large coefficients, and one position alone is no
    evidence. Two positions without the third, both near the top of the range (>= 95: quality <= 6), are what a flat
    graphic whose edges run one way (a pictogram, a flag) gives: the same few values repeated along each edge, which
    a coarse comb fits by chance; a JPEG that coarse quantises all three. (A moderate pair, [1, 39, 39], is a real
    re-saved JPEG of a picture with little structure one way; a pair without the diagonal, see below.)

    >>> consistent_steps([18, 20, 21]), consistent_steps([7, 24, 20]), consistent_steps([1, 120, 32])
    ([18, 20, 21], [7, 7, 7], [1, 1, 1])
    >>> consistent_steps([110, 1, 115]), consistent_steps([1, 39, 39])
    ([1, 1, 1], [39, 39, 39])

    At the other end, two positions at the top of the range and a coarse third (>= 40) are a picture quantised so
    coarsely (quality <= 8, re-saved losslessly) that every low AC coefficient on its block grid went to zero while
    the blocks' edges fill the shifted grid. A smooth graphic re-saved at q60 can read two top positions too, but its
    third reads the real, fine step ([9, 120, 120]).

    >>> consistent_steps([120, 120, 120]), consistent_steps([73, 120, 120]), consistent_steps([9, 120, 120])
    ([120, 120, 120], [120, 120, 120], [1, 1, 1])

    The horizontal and vertical frequencies read while the diagonal one is not ([46, 28, 1]) is a picture whose edges
    all run straight across or down: a flag, a banner of bands, a pictogram. Such edges put the same few coefficient
    values at (0, 1) and (1, 0) in block after block, which some comb fits by chance (half of a sample of
    Nordic-cross flags saved at q90-q95 did), and leave (1, 1) empty; a JPEG that coarse quantises the diagonal of a
    picture's blocks too. Hidden heavy JPEGs read this way were flat drawings only (1 in 80 of those caught).

    >>> consistent_steps([46, 28, 1]), consistent_steps([112, 99, 1])
    ([1, 1, 1], [1, 1, 1])
    """
    top = int(_CANDIDATE_STEPS[-1])
    if min(steps) >= COARSE_THIRD and sum(s >= top for s in steps) >= 2:
        return [top] * 3
    valid = sorted(s for s in steps if 1 < s < top)
    axis_aligned = steps[2] <= 1 and min(steps[:2]) > 1
    if len(valid) < 2 or axis_aligned or (min(steps) <= 1 and valid[0] >= COARSEST_PAIR):
        return [1, 1, 1]
    if valid[-1] > 2 * valid[0]:
        return [valid[0]] * 3
    return [s if 1 < s < top else valid[0] for s in steps]


class Compression(Check):
    """Heavy compression: quality from the file (a JPEG's table, a WebP's quantiser) and from the pixels' DCT steps,
    and 8x8 blocking.

    Options: ``min_quality`` (the IJG quality at the decision point, default 40), ``min_webp_quality`` (the libwebp
    quality at the decision point for a lossy WebP file, default 20), ``max_avif_quantiser`` (the AV1 ``base_q_idx``
    at the decision point for an AVIF file, default 196).
    """

    name = "compression"
    option_names = ("min_quality", "min_webp_quality", "max_avif_quantiser")
    description = ("Compression artefacts: file quality (JPEG table, WebP and AVIF quantisers) and pixel quality "
                   "estimates (IJG scale), 8x8 blockiness.")
    # 7: a lossy WebP file's quantiser is its file quality; 10: a step its large coefficients bear out; 11: an AVIF
    # file's AV1 quantiser is its file quality, a picture enlarged by repeating pixels is read on its own pixels
    version = "11"
    MIN_QUALITY, QUALITY_WIDTH = 40.0, 0.12  # IJG quality at the decision point; width on a log2 scale
    # A WebP at quality 20 loses as much as a JPEG at ~24 (mean luma SSIM, 40 clean pictures), well past the JPEG
    # point, and that is deliberate: WebP's loss is smoothing behind a deblocking filter, not 8x8 blocks, and it reads
    # clean far lower than SSIM says. GCompris ships 15 of its 837 lossy WebP pictures at quality 30-37 (1024-1620 px
    # animals and sea floors): they look clean at their size and their file reads 0.001-0.008; quality <= 15 is
    # flagged.
    MIN_WEBP_QUALITY = 20
    # AV1's base_q_idx at the same loss as that WebP point: libavif's quality 30 (index 196) reads a mean luma SSIM of
    # 0.921 against WebP q20's 0.927 (40 clean pictures of the untuned splits); its quality 20 (216) reads 0.898, a
    # JPEG at ~15. Web encoders' defaults sit far below it (libavif's quality 50-65: index 100-148).
    MAX_AVIF_QUANTISER, AVIF_WIDTH = 196, 6.0
    BLOCK_CENTRE, BLOCK_WIDTH = 1.45, 0.08
    BLOCK_ALONE = 0.4  # the most blocking alone can score

    def measure(self, img: LoadedImage) -> Measurement:
        gray = shared(img, "native_crop", lambda: native_luma_crop(img))
        # Pixel art enlarged k times by repeating pixels: at k = 8 or 16 every 8x8 block is one flat colour on the
        # file's grid, as JPEG's coarsest quantisation leaves it. The art's own pixels are read instead.
        art = pixel_art(img)
        repeat = 1 if art is None else art[1]
        if art is not None:
            gray = luma601(art[0])
        grid = blockiness(gray)
        steps = dct_quant_steps(gray[:384, :384])
        consistent = consistent_steps(steps)
        if min(consistent) >= _CANDIDATE_STEPS[-1] and not flat_blocks_quantised(gray[:384, :384]):
            consistent = [1, 1, 1]  # every block flat, but not on a DC lattice: the content is flat, not crushed
        pixel_q = quality_from_steps(consistent)
        file_q = file_jpeg_quality(img)
        webp_qi = file_webp_quantiser(img)
        webp_q = None if webp_qi is None else webp_quality(webp_qi)
        avif_qi = file_avif_quantiser(img)
        min_q = math.log2(float(self.options.get("min_quality", self.MIN_QUALITY)))
        min_webp = self.options.get("min_webp_quality", self.MIN_WEBP_QUALITY)
        max_avif = float(self.options.get("max_avif_quantiser", self.MAX_AVIF_QUANTISER))
        # The file's own quality: a JPEG's table on the IJG scale, a WebP's setting on libwebp's, an AVIF's AV1
        # quantiser index (each at its own point).
        if webp_q is not None:
            s_file = logistic(-math.log2(max(webp_q, 1)), -math.log2(float(min_webp)), self.QUALITY_WIDTH)
        elif avif_qi is not None:
            s_file = logistic(float(avif_qi), max_avif, self.AVIF_WIDTH)
        else:
            s_file = 0.0 if file_q is None else logistic(-math.log2(file_q), -min_q, self.QUALITY_WIDTH)
        s_pixels = logistic(-math.log2(pixel_q), -min_q, self.QUALITY_WIDTH)
        s_block = logistic(grid, self.BLOCK_CENTRE, self.BLOCK_WIDTH)
        # Blocking alone is weak evidence: a smooth gradient saved at q95 has steps only at block edges (a high ratio
        # of tiny steps). It supports, the quantisation steps (file table or pixels) decide.
        score = max(s_file, s_pixels, min(s_block, self.BLOCK_ALONE))
        values = {"jpeg_quality": file_q, "webp_quantiser": webp_qi, "webp_quality": webp_q, "avif_quantiser": avif_qi,
                  "pixel_quality": pixel_q,
                  "dct_steps": steps, "blockiness": round(grid, 3),
                  "file_quality_score": round(s_file, 4), "pixel_quality_score": round(s_pixels, 4),
                  "blocking_score": round(s_block, 4), "format": img.format, "pixel_repeat": repeat}
        points = {"webp": min_webp, "avif": max_avif}
        return Measurement(score=score, values=values, summary=self._summary(score, values, grid, points))

    def _summary(self, score: float, v: dict[str, Any], grid: float, points: dict[str, Any]) -> str:
        state = "heavily compressed" if score >= 0.5 else "compression fine"
        file_q, pixel_q = v["jpeg_quality"], v["pixel_quality"]
        if v["webp_quality"] is not None:
            q = (f"WebP saved at quality ~{v['webp_quality']} (quantiser {v['webp_quantiser']} of 127; normal >= "
                 f"{points['webp']}), ")
        elif v["avif_quantiser"] is not None:
            q = f"AVIF quantiser {v['avif_quantiser']} of 255 (normal <= {points['avif']:.0f}), "
        else:
            q = (f"file table quality ~{file_q}, " if file_q is not None
                 else "not a JPEG or lossy WebP / AVIF file, ")
        art = (f"; read on the picture's own pixels (each repeated {v['pixel_repeat']}x{v['pixel_repeat']}: pixel art "
               "or an icon enlarged)" if v["pixel_repeat"] > 1 else "")
        return (f"{state}: {q}quality read from the pixels' DCT steps ~{pixel_q} (normal >= {self.MIN_QUALITY:.0f}), "
                f"8x8 blockiness {grid:.2f} (normal <= {self.BLOCK_CENTRE - 0.15:.1f}){art}")
