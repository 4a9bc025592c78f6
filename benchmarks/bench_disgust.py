"""Milliseconds per image of the disgust classifier on one core: torch vs ONNX Runtime, and the whole check.

    python benchmarks/bench_disgust.py                                   # stand-in and MobileNet-V2 1.0 @ 224
    python benchmarks/bench_disgust.py --model runs/disgust-standin/runs/mean_teacher_ohem_s0  # + a trained one

Speed does not depend on the weights, so without ``--model`` the benchmark saves untrained models of the two
recipe architectures (read from ``recipes/disgust/``: the CPU stand-in, MobileNet-V2 0.25 + CBAM at 96 px; the
production recipe, MobileNet-V2 1.0 + CBAM at 224 px), exports them to ONNX (verified against torch: the max
|difference| is printed) and times, per image:

* ``torch``: the forward pass (probabilities + class-activation maps), batch 1;
* ``torch+gradcam``: forward plus the Grad-CAM backward the torch backend draws its heat map with;
* ``onnx``: onnxruntime on ``model.onnx`` (probabilities + maps);
* ``check``: ``Disgust.measure`` on a 1024 px real photo, ONNX backend: resize, inference, heat-map PNG.

Each figure is the median over ``--repeat`` runs after warm-up, in per-thread CPU time (other processes on a
shared machine do not inflate it) and wall time. One thread everywhere (torch, OpenMP, onnxruntime).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RECIPES = {"standin (config_cpu_standin)": "config_cpu_standin.yaml",
           "production (config_mobilenet_v2)": "config_mobilenet_v2.yaml"}


def recipe_arch(filename: str) -> dict[str, Any]:
    """The architecture fields of a recipe (the benchmark times exactly what the recipe trains)."""
    from creative4u.train.disgust.config import load_train_config

    cfg = load_train_config(REPO / "recipes" / "disgust" / filename, ["data_dir=unused"])
    keys = ("backbone", "backbone_config", "image_size", "cbam", "cbam_kernel", "cbam_reduction", "dropout")
    return {k: getattr(cfg, k) for k in keys}


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> dict[str, float]:
    """Median per-thread CPU and wall milliseconds of ``fn``."""
    for _ in range(warmup):
        fn()
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.thread_time(), time.perf_counter()
        fn()
        cpu.append((time.thread_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return {"cpu_ms": round(statistics.median(cpu), 2), "wall_ms": round(statistics.median(wall), 2)}


def save_untrained(arch: dict[str, Any], out: Path, classes: list[str]) -> Path:
    """An untrained model folder of ``arch`` (speed does not depend on the weights), with its ONNX file."""
    import torch

    from creative4u.checks.disgust_model import DisgustModel, build_stage, save_disgust_model
    from creative4u.train.disgust.export import export_model_dir

    torch.manual_seed(0)
    stage = build_stage(arch, len(classes), arch["image_size"])
    model = DisgustModel([stage], classes.index("none")).eval()
    meta = {"classes": classes, "negative_class": "none", "image_size": arch["image_size"], "threshold": 0.5}
    save_disgust_model(model, out, meta)
    export_model_dir(out)
    return out


def real_photo(side: int = 1024) -> Any:
    from creative4u.data.photos import list_photos
    from creative4u.images import LoadedImage

    photo = next(p for p in list_photos(("skimage",)) if p.id == "skimage-chelsea").load()
    return LoadedImage.from_pil(photo.resize((side, side * photo.height // photo.width)))


def bench_model(name: str, model_dir: Path, repeat: int) -> dict[str, Any]:
    import torch

    from creative4u.checks.disgust import Disgust, DisgustMeta, OnnxRunner
    from creative4u.checks.disgust_model import load_disgust_model
    from creative4u.checks.gradcam import grad_cam

    torch.set_num_threads(1)
    meta = DisgustMeta.from_dir(model_dir)
    model, raw = load_disgust_model(model_dir)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(1, 3, meta.image_size, meta.image_size))
                         .astype(np.float32))
    runner = OnnxRunner(model_dir / "model.onnx", threads=1)

    def torch_forward() -> None:
        with torch.no_grad():
            model(x)

    check = Disgust(model_dir=str(model_dir), backend="onnx", threads=1)
    img = real_photo()
    row = {"model": name, "image_size": meta.image_size, "parameters": sum(p.numel() for p in model.parameters()),
           "onnx_max_abs_diff": raw.get("onnx", {}).get("max_abs_diff"),
           "torch": timed(torch_forward, repeat),
           "torch+gradcam": timed(lambda: (torch_forward(), grad_cam(model, x, 0)), repeat),
           "onnx": timed(lambda: runner.session.run(None, {"pixel_values": x.numpy()}), repeat),
           "check": timed(lambda: check.measure(img), repeat)}
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[], help="a trained model folder (repeat)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per figure (median)")
    parser.add_argument("--no-builtin", action="store_true", help="time only the --model folders")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [(Path(m).name, Path(m)) for m in args.model]
        if not args.no_builtin:
            targets += [(n, save_untrained(recipe_arch(f), Path(tmp) / f"m{i}", ["animal", "human", "object", "none"]))
                        for i, (n, f) in enumerate(RECIPES.items())]
        for name, path in targets:
            rows.append(bench_model(name, path, args.repeat))
    print(f"{'model':<34} {'params':>9} {'side':>4}  {'torch':>8} {'+gradcam':>9} {'onnx':>8} {'check':>8}  "
          "(ms/image, one core, CPU time)  onnx max|dp|")
    for r in rows:
        print(f"{r['model']:<34} {r['parameters']:>9,} {r['image_size']:>4}  {r['torch']['cpu_ms']:>8.2f} "
              f"{r['torch+gradcam']['cpu_ms']:>9.2f} {r['onnx']['cpu_ms']:>8.2f} {r['check']['cpu_ms']:>8.2f}  "
              f"{r['onnx_max_abs_diff']}")
    print(json.dumps({"bench": "disgust", "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
