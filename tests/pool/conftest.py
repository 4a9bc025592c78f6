"""Fixtures of the pool wing: one small real Ray cluster for the session, a pool of 200+ real images."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

POOL_SIDE = 96  # small creatives keep the suite at ~0.1 s an image on one core
UNREADABLE = {
    "zz-truncated.jpg": None,  # the first 200 bytes of a real JPEG
    "zz-not-an-image.jpg": b"this is a text file with an image suffix\n",
    "zz-empty.png": b"",
    "zz-garbage.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    "zz-html.webp": b"<html><body>404 not found</body></html>",
}


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """A real local Ray cluster (2 CPUs, a small object store), shut down when the session ends."""
    ray = pytest.importorskip("ray", reason="the pool extra (ray[data]) is not installed")
    if ray.is_initialized():
        yield
        return
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=256 * 1024 * 1024, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def write_pool(folder: Path, photos: int = 8, severities: tuple[float, ...] = (0.3, 0.8)) -> list[Path]:
    """Real photos (skimage) as small creatives, each with every degradation of creative4u.data.degrade at each
    severity, as JPEG and PNG; plus the unreadable files of :data:`UNREADABLE`."""
    import numpy as np

    from creative4u.data.degrade import DEGRADATIONS, make_creative
    from creative4u.data.photos import list_photos

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for k, photo in enumerate(list_photos(("skimage",))[:photos]):
        rng = np.random.default_rng(k)
        clean, _ = make_creative(photo.load(max_side=256), size=(POOL_SIDE, POOL_SIDE), rng=rng)
        variants = {"clean": clean}
        for name, fn in DEGRADATIONS.items():
            for sev in severities:
                variants[f"{name}-{sev}"] = fn(clean, rng, sev)[0]
        for j, (name, img) in enumerate(variants.items()):
            ext = "png" if j % 5 == 0 else "jpg"
            path = folder / f"{photo.id.replace('/', '_')}-{name}.{ext}"
            img.convert("RGB").save(path, quality=90) if ext == "jpg" else img.convert("RGB").save(path)
            written.append(path)
    buf = io.BytesIO()
    clean.convert("RGB").save(buf, "JPEG", quality=90)
    for name, data in UNREADABLE.items():
        (folder / name).write_bytes(buf.getvalue()[:200] if data is None else data)
        written.append(folder / name)
    return written


@pytest.fixture(scope="session")
def image_pool(tmp_path_factory) -> Path:
    """A folder of 221 files: 8 photos x (clean + 13 degradations x 2 severities) and 5 unreadable files."""
    folder = tmp_path_factory.mktemp("pool") / "images"
    write_pool(folder)
    return folder


@pytest.fixture(scope="session")
def pair_set(tmp_path_factory) -> Path:
    """A real CreativePair set: 2 skimage photos x 13 degradations = 26 clean-vs-degraded pairs (128 px)."""
    from creative4u.data.build_pairs import build_pairs
    from creative4u.data.photos import list_photos

    d = tmp_path_factory.mktemp("pool_pairs")
    build_pairs(d, list_photos(("skimage",))[:2], per_photo=1, size=128, seed=0, holdout_fraction=0.0)
    return d / "train.jsonl"
