"""Shared fixtures: small real photos (skimage's CC0 set) and a directory of hostile files."""

from __future__ import annotations

import importlib
import io
import os
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def _importer(folder: str) -> Callable[[str], ModuleType]:
    """Import a script of ``folder`` by name (the folder is on the path only while it imports, with the scripts
    beside it that it imports)."""
    def load(name: str) -> ModuleType:
        sys.path.insert(0, str(REPO / folder))
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(str(REPO / folder))
    return load


@pytest.fixture(scope="session")
def benchmark_module() -> Callable[[str], ModuleType]:
    """Import a script of ``benchmarks/`` by name."""
    return _importer("benchmarks")


@pytest.fixture(scope="session")
def script_module() -> Callable[[str], ModuleType]:
    """Import a script of ``scripts/`` by name."""
    return _importer("scripts")


def _skimage_photo(name: str, max_side: int) -> Image.Image:
    from skimage import data

    img = Image.fromarray(getattr(data, name)()).convert("RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return img


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    """A real colour photo (skimage ``coffee``, CC0), 384 px on its long side."""
    return _skimage_photo("coffee", 384)


@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    """A few real colour photos from skimage, 384 px on the long side."""
    return {n: _skimage_photo(n, 384) for n in ("coffee", "chelsea", "astronaut", "rocket")}


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_bomb(side: int = 30000) -> bytes:
    """A valid 1-bit PNG of side x side pixels that compresses to ~100 KB (a decompression bomb)."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="session")
def hostile_dir(tmp_path_factory, photo) -> Path:
    """Files a real upload form receives: broken, hostile or in unusual modes. Names say what each one is."""
    d = tmp_path_factory.mktemp("hostile")
    jpeg = _save(photo, "JPEG", quality=90)
    (d / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (d / "bomb.png").write_bytes(png_bomb())
    (d / "zero.jpg").write_bytes(b"")
    (d / "text_named.jpg").write_text("this is not an image, just text\n")
    (d / "cmyk.jpg").write_bytes(_save(photo.convert("CMYK"), "JPEG"))
    arr16 = (np.asarray(photo.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    (d / "gray16.png").write_bytes(_save(Image.fromarray(arr16), "PNG"))
    frames = [photo.convert("P"), Image.new("RGB", photo.size, "blue").convert("P")]
    (d / "animated.gif").write_bytes(_save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    (d / "rotated.jpg").write_bytes(_save(photo, "JPEG", exif=exif))
    rgba = photo.convert("RGBA")
    rgba.putalpha(128)
    (d / "alpha.png").write_bytes(_save(rgba, "PNG"))
    pal = photo.convert("P")
    pal.info["transparency"] = 0
    (d / "palette_transparent.png").write_bytes(_save(pal, "PNG", transparency=0))
    (d / "photo.webp").write_bytes(_save(photo, "WEBP"))
    (d / "photo_named.txt").write_bytes(jpeg)  # a real JPEG with a misleading extension
    bad_crc = bytearray(_save(photo, "PNG"))
    bad_crc[40:60] = b"\xff" * 20
    (d / "corrupt.png").write_bytes(bytes(bad_crc))
    return d


@pytest.fixture(scope="session")
def pair_bench(tmp_path_factory) -> Path:
    """A small real benchmark built offline (issue 7): 3 skimage photos x 13 degradations = 39 CreativePairs in
    ``pairs.jsonl`` (clean vs degraded, A/B balanced) and 42 per-image check labels in ``labels.jsonl``."""
    from creative4u.cli.data import write_bench_files
    from creative4u.data.build_pairs import build_check_labels, build_pairs
    from creative4u.data.photos import list_photos

    d = tmp_path_factory.mktemp("pair_bench")
    manifest = build_pairs(d, list_photos(("skimage",))[:3], per_photo=1, size=192, seed=0, holdout_fraction=0.0)
    labels = build_check_labels(d)
    write_bench_files(d, manifest, labels, {"seed": 0, "sources": "skimage", "size": [192], "per_photo": 1,
                                            "categories": None, "max_photos": 3, "holdout": 0.0})
    return d


# ---------------------------------------------------------------- serving (issue 6): a real gateway process

GATEWAY_KEYS = {"tests": "c4u-test-main-key-01", "load": "c4u-test-load-key-02", "hostile": "c4u-test-hostile-03"}
GATEWAY_LIMITS = {"max_body_bytes": 8 * 1024 * 1024, "max_image_bytes": 2 * 1024 * 1024, "max_images": 8,
                  "max_concurrency_per_key": 8, "max_image_pixels": 16_000_000}


@pytest.fixture(scope="session")
def creative_jpegs() -> dict[str, bytes]:
    """Real photos (skimage, at most 640 px) as JPEG bytes, as a client uploads them, plus a blurred copy of
    ``coffee.jpg`` that the sharpness check vetoes: a pair whose winner does not depend on the judge."""
    from PIL import ImageFilter

    photos = {n: _skimage_photo(n, 640) for n in ("coffee", "chelsea", "astronaut", "rocket")}
    out = {f"{name}.jpg": _save(img, "JPEG", quality=90) for name, img in photos.items()}
    out["coffee_blurred.jpg"] = _save(photos["coffee"].filter(ImageFilter.GaussianBlur(4)), "JPEG", quality=90)
    return out


@pytest.fixture(scope="session")
def gateway(tmp_path_factory):
    """A real gateway: ``creative4u serve`` (uvicorn) as a child process on a free 127.0.0.1 port.

    Backends: ``feature`` (the default), ``down`` (an OpenAI-compatible server that refuses connections; falls back
    to ``feature``), ``dead`` (the same without fallback: 503) and ``hang`` (a server that accepts connections and
    never answers: 503 once ``timeout_s`` passes). Limits (``GATEWAY_LIMITS``) are small so hostile requests are
    cheap. Yields a namespace with ``base_url``, ``api_key``, ``keys`` (label -> key), ``limits`` and ``proc``.
    """
    import socket
    from types import SimpleNamespace

    import yaml

    from creative4u.serve.api_server import GatewayProcess

    d = tmp_path_factory.mktemp("gateway")
    cdn = _image_server(d / "cdn")  # remote images: allowed under /ok/ only
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)  # connections complete in the kernel backlog; nothing ever reads or answers them
    refuse = socket.socket()
    refuse.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused, and no one else gets the port
    closed = refuse.getsockname()[1]

    def openai(port: int, **kw):
        opts = {"base_url": f"http://127.0.0.1:{port}/v1", "model": "m", "timeout": 3, "max_retries": 0}
        return {"backend": "openai", "options": opts, "cooldown_s": 1, **kw}

    config = {
        **GATEWAY_LIMITS, "workers": 4, "api_keys_file": str(d / "keys.txt"), "default_backend": "feature",
        "allowed_url_prefixes": [f"{cdn.url}/ok/"],
        "backends": {
            "feature": {"backend": "feature", "timeout_s": 120, "cooldown_s": 0},
            "down": openai(closed, fallback="feature", timeout_s=60),
            "dead": openai(closed, timeout_s=60),
            "hang": openai(hang.getsockname()[1], timeout_s=1.5),
        },
    }
    (d / "keys.txt").write_text("".join(f"{label} {key}\n" for label, key in GATEWAY_KEYS.items()))
    (d / "gateway.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    server = GatewayProcess(str(d / "gateway.yaml"), log_path=str(d / "gateway.log")).start()
    try:
        yield SimpleNamespace(base_url=server.base_url, api_key=GATEWAY_KEYS["tests"], keys=GATEWAY_KEYS,
                              limits=GATEWAY_LIMITS, proc=server.proc, log=server.log, cdn=cdn)
    finally:
        server.stop()
        hang.close()
        refuse.close()
        cdn.server.shutdown()


def _image_server(root: Path):
    """A local HTTP server standing in for an image CDN: files under ``root``; ``/ok/redirect`` answers 302."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
    from types import SimpleNamespace

    (root / "ok").mkdir(parents=True)
    (root / "private").mkdir()

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path == "/ok/redirect":
                self.send_response(302)
                self.send_header("Location", "/private/secret.jpg")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return SimpleNamespace(server=server, root=root, url=f"http://127.0.0.1:{server.server_address[1]}")


# --- VLM judge (issue 4): a tiny model built here, nothing downloaded ---------------------------------------------
@pytest.fixture(scope="session")
def judge_tiny_vlm(tmp_path_factory) -> Path:
    """A tiny random Qwen2.5-VL (``creative4u.testing.tiny_vlm``, seed 0): it never writes the answer format."""
    from creative4u.testing.tiny_vlm import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("judge_tiny_vlm"), arch="qwen2_5_vl", seed=0)


# ---------------------------------------------------------------- disgust classifier (issue 8)


@pytest.fixture(scope="session")
def disgust_data(tmp_path_factory) -> Path:
    """The disgust stand-in task at test size, in the real layout: crops of the 9 skimage photos, class ``object`` =
    a synthetic mould texture laid over the crop, ``none`` = plain crops or crops with a clean colour sticker."""
    from creative4u.data.photos import list_photos
    from creative4u.train.disgust.data import build_standin

    d = tmp_path_factory.mktemp("disgust_data")
    photos = [p.load(max_side=192) for p in list_photos(("skimage",))]
    build_standin(d, photos, labelled_per_class=8, unlabelled=16, val_per_class=6, test_per_class=6, size=64, seed=0)
    return d


@pytest.fixture(scope="session")
def disgust_model(tmp_path_factory, disgust_data) -> Path:
    """A disgust model folder trained for a few steps on ``disgust_data`` with every recipe piece on (tiny
    MobileNet-V2 + CBAM, mean teacher, OHEM, focal loss, two-stage cascade, calibration, verified ONNX export)."""
    from creative4u.train.disgust.config import load_train_config
    from creative4u.train.disgust.train import train_disgust

    out = tmp_path_factory.mktemp("disgust_model")
    overrides = [f"data_dir={disgust_data}", f"output_dir={out}", "image_size=64", "backbone_config={}", "steps=6",
                 "batch_size=8", "unlabelled_batch_size=8", "warmup_steps=2", "ohem=true", "ohem_min_kept=2",
                 "loss=focal", "cascade=true", "progress=false", "threads=1"]
    train_disgust(load_train_config(REPO / "recipes/disgust/config_cpu_standin.yaml", overrides))
    return out
