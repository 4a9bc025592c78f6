"""The disgust data layout, its validation, image tensors and batch augmentation (torch ops only, no torchvision).

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> try:
...     scan_dataset(root)
... except DisgustDataError as err:
...     print(str(err).endswith("see data/disgust/README.md)"), "has no labelled/ folder" in str(err))
... finally:
...     root.rmdir()
True True

Layout (``data/disgust/README.md``)::

    DATA/labelled/<class>/*.jpg    one folder per class, e.g. animal/ human/ object/ none/
    DATA/unlabelled/*.jpg          the unlabelled pool (mean teacher, active learning); may be empty or absent
    DATA/val/<class>/*.jpg         optional: calibration split (else ``val_fraction`` of labelled/ is held out)
    DATA/test/<class>/*.jpg        optional: reported at the calibrated threshold, never trained or calibrated on

Images are read with :func:`creative4u.images.load_image` (format sniffing, size caps, EXIF rotation), so a broken
file is reported by name instead of crashing a run half-way.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from creative4u.checks.disgust_format import resize_uint8
from creative4u.images import IMAGE_SUFFIXES, ImageLoadError, load_image

LAYOUT_HINT = "expected labelled/<class>/*.jpg and unlabelled/*.jpg (see data/disgust/README.md)"


class DisgustDataError(ValueError):
    """The data folder does not follow the layout or holds unreadable images; the message says which."""


@dataclass
class DatasetIndex:
    """Files per split: ``(path, class index)`` for labelled splits, paths for the unlabelled pool."""

    root: Path
    classes: list[str]
    negative_class: str
    train: list[tuple[Path, int]]
    val: list[tuple[Path, int]]
    test: list[tuple[Path, int]] = field(default_factory=list)
    unlabelled: list[Path] = field(default_factory=list)
    val_source: str = "val/"

    def counts(self) -> dict[str, Any]:
        """Images per split and class (the data section of the training report)."""
        per = {}
        for split in ("train", "val", "test"):
            items = getattr(self, split)
            per[split] = {c: sum(1 for _, y in items if y == i) for i, c in enumerate(self.classes)}
        per["unlabelled"] = len(self.unlabelled)
        per["val_source"] = self.val_source
        return per


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` (by extension; hidden files skipped), sorted."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                  and not p.name.startswith("."))


def _class_folders(split_dir: Path, classes: list[str], required: bool) -> list[tuple[Path, int]]:
    stray = [p.name for p in split_dir.iterdir() if p.is_file() and not p.name.startswith(".")]
    if stray:
        raise DisgustDataError(f"{split_dir}: files directly inside ({', '.join(stray[:3])}...); images belong in "
                               f"one folder per class; {LAYOUT_HINT}")
    found = sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise DisgustDataError(f"{split_dir}: unknown class folders {unknown}; the classes are {classes}")
    items: list[tuple[Path, int]] = []
    for idx, name in enumerate(classes):
        files = list_images(split_dir / name) if (split_dir / name).is_dir() else []
        if required and not files:
            raise DisgustDataError(f"{split_dir}: class {name!r} has no images in {split_dir / name}/; every class "
                                   "needs labelled examples")
        items += [(p, idx) for p in files]
    return items


def resolve_classes(root: Path, classes: list[str] | None, negative_class: str) -> list[str]:
    """The configured classes, or the labelled/ folder names when none are configured."""
    labelled = root / "labelled"
    if not classes:
        classes = sorted(p.name for p in labelled.iterdir() if p.is_dir() and not p.name.startswith("."))
    if negative_class not in classes:
        raise DisgustDataError(f"{labelled}: the negative class {negative_class!r} is not among {classes}")
    if len(classes) < 2:
        raise DisgustDataError(f"{labelled}: need at least 2 classes, got {classes}")
    return list(classes)


def _split(items: list[tuple[Path, int]], fraction: float, seed: int) -> tuple[list, list]:
    """Stratified hold-out: ``fraction`` of each class (at least one image when fraction > 0)."""
    rng = random.Random(seed)
    train, val = [], []
    for label in sorted({y for _, y in items}):
        group = [it for it in items if it[1] == label]
        rng.shuffle(group)
        k = max(1, round(len(group) * fraction)) if fraction > 0 and len(group) > 1 else 0
        val += group[:k]
        train += group[k:]
    return train, val


def scan_dataset(root: str | Path, classes: list[str] | None = None, negative_class: str = "none",
                 val_fraction: float = 0.2, seed: int = 0) -> DatasetIndex:
    """Check the layout and list every split; raise :class:`DisgustDataError` with the fix on any problem."""
    root = Path(root)
    if not root.is_dir():
        raise DisgustDataError(f"disgust data folder {root} not found; {LAYOUT_HINT}")
    if not (root / "labelled").is_dir():
        raise DisgustDataError(f"disgust data folder {root} has no labelled/ folder; {LAYOUT_HINT}")
    classes = resolve_classes(root, classes, negative_class)
    labelled = _class_folders(root / "labelled", classes, required=True)
    if (root / "val").is_dir():
        train, val, source = labelled, _class_folders(root / "val", classes, required=False), "val/"
    else:
        (train, val), source = _split(labelled, val_fraction, seed), f"{val_fraction:.0%} of labelled/"
    test = _class_folders(root / "test", classes, required=False) if (root / "test").is_dir() else []
    unl_dir = root / "unlabelled"
    unlabelled = list_images(unl_dir) if unl_dir.is_dir() else []
    return DatasetIndex(root, classes, negative_class, train, val, test, unlabelled, source)


def load_pixels(paths: list[Path], size: int, progress: bool = False, desc: str = "images") -> torch.Tensor:
    """Decode and resize images into a ``(N, 3, size, size)`` uint8 tensor; all unreadable files in one error."""
    from tqdm.auto import tqdm

    arrays, bad = [], []
    for p in tqdm(paths, desc=f"loading {desc}", disable=not progress, leave=False):
        try:
            arrays.append(resize_uint8(load_image(p).image, size))
        except ImageLoadError as err:
            bad.append(f"{p}: {err.reason}")
    if bad:
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise DisgustDataError(f"{len(bad)} unreadable image(s): " + "; ".join(bad[:5]) + more)
    if not arrays:
        return torch.zeros((0, 3, size, size), dtype=torch.uint8)
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def normalise(x: torch.Tensor, mean: list[float], std: list[float]) -> torch.Tensor:
    """uint8 or [0, 1] pixels -> the model's input scale (what :func:`creative4u.checks.disgust.preprocess` does)."""
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x
    m = torch.tensor(mean, dtype=x.dtype).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - m) / s


def augment(x: torch.Tensor, generator: torch.Generator, scale: tuple[float, float] = (0.6, 1.0),
            jitter: float = 0.2) -> torch.Tensor:
    """Random crop-and-resize, horizontal flip and colour jitter on a batch in [0, 1] (per image, batched).

    >>> g = torch.Generator().manual_seed(0)
    >>> augment(torch.rand(4, 3, 16, 16), g).shape
    torch.Size([4, 3, 16, 16])

    Crops are affine grids sampled bilinearly (one ``grid_sample`` for the batch); colour jitter is brightness
    and contrast scaling plus a saturation blend towards grey.
    """
    n = x.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=generator)

    side = uniform(*scale)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    tx, ty = (1 - side) * uniform(-1, 1), (1 - side) * uniform(-1, 1)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = side * flip, tx, side, ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if jitter > 0:
        bright, contrast, sat = (uniform(1 - jitter, 1 + jitter).view(n, 1, 1, 1) for _ in range(3))
        grey = out.mean(dim=1, keepdim=True)
        out = grey + (out - grey) * sat
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        out = (mean + (out - mean) * contrast) * bright
    return out.clamp(0.0, 1.0)


class IndexSampler:
    """An endless stream of index batches: uniform, or class-balanced (each class equally likely)."""

    def __init__(self, labels: list[int] | None, n: int, batch_size: int, balanced: bool, seed: int,
                 weights: np.ndarray | None = None) -> None:
        if n == 0:
            raise DisgustDataError("cannot sample batches from an empty split")
        self.n, self.batch_size = n, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        w = np.ones(n) if weights is None else np.asarray(weights, float)
        if balanced and labels is not None:
            counts = np.bincount(labels)
            w = w / counts[np.asarray(labels)]
        self.weights = torch.as_tensor(w / w.sum(), dtype=torch.float64)

    def __iter__(self) -> IndexSampler:
        return self

    def __next__(self) -> torch.Tensor:
        return torch.multinomial(self.weights, self.batch_size, replacement=True, generator=self.generator)


# --- a stand-in task from real photos -------------------------------------------------------------------------
# No disgust data can be downloaded here. For smoke tests and the CPU benchmark, positives are real photo crops
# with a synthetic mould/stain texture laid over part of them (class "object", as mould on objects is); negatives
# are plain crops and, so that "any patch" is not a shortcut, some crops carry a clean, smooth colour sticker of
# the same sizes. It stands in for real disgust data: it exercises every part of the recipe, not the real task.
STANDIN_CLASSES = ["object", "none"]
_MOULD_COLOURS = np.array([[86, 104, 48], [122, 128, 96], [44, 38, 26], [196, 196, 170], [104, 84, 40]], float)


def fractal_noise(shape: tuple[int, int], rng: np.random.Generator, octaves: int = 4) -> np.ndarray:
    """Smooth random field in [0, 1]: bicubically upsampled random grids, finer octaves weaker.

    >>> fractal_noise((16, 8), np.random.default_rng(0)).shape
    (16, 8)
    """
    from PIL import Image

    h, w = shape
    total = np.zeros(shape, np.float32)
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = rng.random((cells, cells)).astype(np.float32)
        up = Image.fromarray(grid, mode="F").resize((w, h), Image.Resampling.BICUBIC)
        total += np.asarray(up) / 2**octave
    total -= total.min()
    return total / max(float(total.max()), 1e-6)


def _blob(shape: tuple[int, int], rng: np.random.Generator, coverage: float, roughness: float) -> np.ndarray:
    """A soft mask of about ``coverage`` of the image: a radial blob whose edge ``roughness`` makes irregular."""
    h, w = shape
    radius = np.sqrt(coverage * h * w / np.pi)
    cy, cx = rng.uniform(radius * 0.5, h - radius * 0.5), rng.uniform(radius * 0.5, w - radius * 0.5)
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) / max(radius, 1.0)
    edge = dist + roughness * (fractal_noise(shape, rng) - 0.5)
    return np.clip((1.0 - edge) * 6.0, 0.0, 1.0)


def mould_overlay(image: Any, rng: np.random.Generator, opacity: tuple[float, float] = (0.35, 0.9),
                  coverage: tuple[float, float] = (0.03, 0.2)) -> Any:
    """Lay an irregular, speckled, greenish-brown mould texture over part of a PIL image (the positive class)."""
    from PIL import Image

    rgb = np.asarray(image.convert("RGB"), np.float32)
    shape = rgb.shape[:2]
    mask = _blob(shape, rng, rng.uniform(*coverage), roughness=1.4) * (0.6 + 0.4 * fractal_noise(shape, rng))
    mix = fractal_noise(shape, rng, octaves=5)[..., None]
    pick = rng.choice(len(_MOULD_COLOURS), size=2, replace=False)
    texture = _MOULD_COLOURS[pick[0]] * mix + _MOULD_COLOURS[pick[1]] * (1 - mix)
    speckle = (rng.random(shape) < 0.06)[..., None]
    texture = np.where(speckle, _MOULD_COLOURS[2], texture)
    alpha = (mask * rng.uniform(*opacity))[..., None]
    return Image.fromarray(np.clip(rgb * (1 - alpha) + texture * alpha, 0, 255).astype(np.uint8))


def sticker_overlay(image: Any, rng: np.random.Generator, coverage: tuple[float, float] = (0.03, 0.2)) -> Any:
    """A clean, smooth, single-colour soft patch (a negative distractor of the same size range)."""
    from PIL import Image

    rgb = np.asarray(image.convert("RGB"), np.float32)
    mask = _blob(rgb.shape[:2], rng, rng.uniform(*coverage), roughness=0.2)[..., None]
    colour = rng.uniform(0, 255, size=3)
    alpha = mask * rng.uniform(0.5, 0.95)
    return Image.fromarray(np.clip(rgb * (1 - alpha) + colour * alpha, 0, 255).astype(np.uint8))


def random_crop(image: Any, rng: np.random.Generator, size: int, scale: tuple[float, float] = (0.35, 1.0)) -> Any:
    """A random square crop (side a share of the shorter side), maybe mirrored, resized to ``size``."""
    from PIL import Image, ImageOps

    w, h = image.size
    side = int(min(w, h) * rng.uniform(*scale))
    x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
    crop = image.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.Resampling.LANCZOS)
    return ImageOps.mirror(crop) if rng.random() < 0.5 else crop


def _standin_image(photos: list[Any], rng: np.random.Generator, size: int, positive: bool,
                   look: dict[str, Any]) -> Any:
    crop = random_crop(photos[int(rng.integers(len(photos)))], rng, size)
    if positive:
        return mould_overlay(crop, rng, look["opacity"], look["coverage"])
    return sticker_overlay(crop, rng, look["coverage"]) if rng.random() < look["sticker_share"] else crop


def build_standin(out_dir: str | Path, photos: list[Any], labelled_per_class: int = 20, unlabelled: int = 300,
                  val_per_class: int = 30, test_per_class: int = 150, size: int = 128,
                  unlabelled_positive: float = 0.3, seed: int = 0, opacity: tuple[float, float] = (0.7, 0.95),
                  coverage: tuple[float, float] = (0.15, 0.4), sticker_share: float = 0.3) -> dict[str, Any]:
    """Write a stand-in dataset in the disgust layout from real photos (PIL images); return its manifest.

    Photos are split three ways so that validation and test crops come from photos never seen in training:
    train + unlabelled pool from the first ~60%, val from the next ~15%, test from the rest. ``opacity`` and
    ``coverage`` bound the mould overlay (and the stickers' size); ``sticker_share`` of the negatives get a sticker.
    """
    if len(photos) < 3:
        raise ValueError(f"the stand-in needs at least 3 photos (one per split), got {len(photos)}")
    rng = np.random.default_rng(seed)
    look = {"opacity": tuple(opacity), "coverage": tuple(coverage), "sticker_share": float(sticker_share)}
    order = rng.permutation(len(photos))
    a, b = max(1, round(0.6 * len(photos))), max(2, round(0.75 * len(photos)))
    split_index = {"train": order[:a].tolist(), "val": order[a:b].tolist(), "test": order[b:].tolist()}
    groups = {k: [photos[i] for i in idx] for k, idx in split_index.items()}
    root = Path(out_dir)
    plan = [("labelled", "train", labelled_per_class), ("val", "val", val_per_class), ("test", "test", test_per_class)]
    for split, group, n in plan:
        for cls in STANDIN_CLASSES:
            (root / split / cls).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                img = _standin_image(groups[group], rng, size, cls != "none", look)
                img.save(root / split / cls / f"{cls}_{i:04d}.jpg", quality=92)
    (root / "unlabelled").mkdir(parents=True, exist_ok=True)
    truth = {}
    for i in range(unlabelled):
        positive = bool(rng.random() < unlabelled_positive)
        img = _standin_image(groups["train"], rng, size, positive, look)
        img.save(root / "unlabelled" / f"u_{i:05d}.jpg", quality=92)
        truth[f"u_{i:05d}.jpg"] = "object" if positive else "none"
    manifest = {"classes": STANDIN_CLASSES, "size": size, "seed": seed, "look": look,
                "photos": {k: len(v) for k, v in groups.items()}, "photo_index": split_index,
                "labelled_per_class": labelled_per_class, "unlabelled": unlabelled,
                "unlabelled_positive": unlabelled_positive, "val_per_class": val_per_class,
                "test_per_class": test_per_class, "unlabelled_truth": truth}
    (root / "standin.json").write_text(json.dumps(manifest, indent=1))
    return manifest
