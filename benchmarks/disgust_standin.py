"""End-to-end CPU run of the disgust recipe on a stand-in task built from real photos.

    python benchmarks/disgust_standin.py --out runs/disgust-standin              # 4 variants, seed 0
    python benchmarks/disgust_standin.py --out runs/disgust-standin --seeds 0,1,2
    python benchmarks/disgust_standin.py --out runs/disgust-extra --variants mean_teacher+ohem+cascade,oracle

**What it stands in for.** No disgust data or pretrained weights can be downloaded here. The task keeps the shape
of the real one: the positive class is defined by visible content and is a small part of the image. Positives
(class ``object``) are crops of real photos (scikit-image's photos and the Debian wallpapers, see
``creative4u.data.photos``) with a synthetic, irregular, speckled mould/stain texture over 15-40% of the crop at
70-95% opacity (``--coverage``, ``--opacity``); negatives (``none``) are plain crops, 30% of them with a clean,
smooth colour sticker of the same sizes (``--sticker-share``) so that "something is pasted there" is not enough.
A logistic regression on colour statistics is at chance on it (test AP 0.51 with 20 labels per class).
Train/unlabelled, validation and test crops come from disjoint sets of photos. It says nothing about accuracy on
real disgusting images.

**What it compares.** The same 20 labelled images per class (and the same validation split for calibration), with:
``supervised`` (labelled only), ``supervised+ohem``, ``mean_teacher`` (+ the unlabelled pool, 30% positives) and
``mean_teacher+ohem``; ``--variants`` also offers ``mean_teacher+ohem+cascade``, ``supervised+focal`` and ``oracle``
(supervised on the labelled images plus the pool's true labels: what labelling the whole pool would buy). Every
variant uses the CPU recipe ``recipes/disgust/config_cpu_standin.yaml`` (tiny MobileNet-V2 + CBAM from random
init). For each: the threshold calibrated on validation for 95% precision, and precision / recall / AP on the test
split at that threshold. Writes ``results.json``, ``results.md``, ``results.png``; and, with the run of the best
test AP, runs ``creative4u check --evidence`` on the test positive it scores highest, enlarged to 384 px for a
readable overlay, and on a clean test crop (``evidence/``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RECIPE = REPO / "recipes" / "disgust" / "config_cpu_standin.yaml"
VARIANTS = {
    "supervised": ["mean_teacher=false", "ohem=false"],
    "supervised+ohem": ["mean_teacher=false", "ohem=true"],
    "mean_teacher": ["mean_teacher=true", "ohem=false"],
    "mean_teacher+ohem": ["mean_teacher=true", "ohem=true"],
    # not run by default (--variants):
    "mean_teacher+ohem+cascade": ["mean_teacher=true", "ohem=true", "cascade=true"],
    "supervised+focal": ["mean_teacher=false", "ohem=false", "loss=focal"],
    "oracle": ["mean_teacher=false", "ohem=false"],  # supervised on labelled + the pool's true labels
}
DEFAULT_VARIANTS = "supervised,supervised+ohem,mean_teacher,mean_teacher+ohem"


def _pair(text: str) -> tuple[float, float]:
    lo, hi = (float(v) for v in text.split(","))
    return lo, hi


def load_photos(sources: list[str]) -> list[Any]:
    from creative4u.data.photos import list_photos

    try:
        photos = list_photos(sources)
    except Exception as err:  # noqa: BLE001 - no apt / offline: scikit-image's own photos still work
        print(f"note: {err}; using the skimage photos only", file=sys.stderr)
        photos = list_photos(("skimage",))
    return [p.load(max_side=640, min_side=320) for p in photos]


def oracle_copy(data: Path, out: Path) -> Path:
    """The same data with every pool image moved into labelled/<its true class>/ (an upper bound)."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(data, out)
    truth = json.loads((data / "standin.json").read_text())["unlabelled_truth"]
    for name, cls in truth.items():
        shutil.move(out / "unlabelled" / name, out / "labelled" / cls / name)
    return out


def run_variant(name: str, overrides: list[str], data: Path, out: Path, seed: int, args: argparse.Namespace) -> dict:
    from creative4u.train.disgust.config import load_train_config
    from creative4u.train.disgust.train import train_disgust

    base = [f"data_dir={data}", f"output_dir={out}", f"seed={seed}", f"steps={args.steps}",
            f"image_size={args.image_size}", f"progress={str(not args.quiet).lower()}",
            f"target_precision={args.target_precision}"] + ([f"threads={args.threads}"] if args.threads else [])
    started = time.perf_counter()
    report = train_disgust(load_train_config(RECIPE, base + list(args.set or []) + overrides))
    row = {"variant": name, "seed": seed, "threshold": report["calibration"]["threshold"],
           "calibration_met": report["calibration"]["met"], "val_precision": report["calibration"]["precision"],
           "val_recall": report["calibration"]["recall"], "test_precision": report["test"]["precision"],
           "test_recall": report["test"]["recall"], "test_fpr": report["test"]["false_positive_rate"],
           "test_ap": report["test"]["average_precision"], "minutes": round((time.perf_counter() - started) / 60, 2),
           "model_dir": str(out), "onnx_max_abs_diff": report.get("onnx", {}).get("max_abs_diff")}
    print(json.dumps(row), flush=True)
    return row


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds, per variant."""
    out = []
    for name in dict.fromkeys(r["variant"] for r in rows):
        group = [r for r in rows if r["variant"] == name]
        item: dict[str, Any] = {"variant": name, "seeds": len(group)}
        for key in ("test_precision", "test_recall", "test_ap", "test_fpr", "threshold", "minutes"):
            vals = [r[key] for r in group]
            item[key] = round(statistics.mean(vals), 4)
            item[key + "_sd"] = round(statistics.stdev(vals), 4) if len(vals) > 1 else 0.0
        item["calibration_met"] = sum(r["calibration_met"] for r in group)
        out.append(item)
    return out


def markdown(summary: list[dict], manifest: dict, args: argparse.Namespace) -> str:
    lines = ["# Disgust recipe on the stand-in task (real photos + synthetic mould texture)", "",
             "A stand-in: positives are real photo crops with a synthetic mould/stain overlay, not disgust data.",
             f"Data: {manifest['labelled_per_class']} labelled per class, {manifest['unlabelled']} unlabelled "
             f"({manifest['unlabelled_positive']:.0%} positive), val {manifest['val_per_class']}/class, test "
             f"{manifest['test_per_class']}/class; photos per split {manifest['photos']}; {args.steps} steps, "
             f"{args.image_size} px. Threshold calibrated on val for precision >= {args.target_precision}.", "",
             "| variant | seeds | test precision | test recall | test AP | test FPR | threshold | calib. met | min |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in summary:
        def cell(k: str, s: dict = s) -> str:
            return f"{s[k]:.3f}" + (f" ± {s[k + '_sd']:.3f}" if s["seeds"] > 1 else "")
        lines.append(f"| {s['variant']} | {s['seeds']} | {cell('test_precision')} | {cell('test_recall')} | "
                     f"{cell('test_ap')} | {cell('test_fpr')} | {cell('threshold')} | {s['calibration_met']}/"
                     f"{s['seeds']} | {s['minutes']:.1f} |")
    return "\n".join(lines) + "\n"


def plot(summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s["variant"] for s in summary]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(names)), 4))
    for i, (key, label) in enumerate([("test_precision", "precision"), ("test_recall", "recall"),
                                      ("test_ap", "AP")]):
        ax.bar(x + (i - 1) * 0.27, [s[key] for s in summary], 0.27, yerr=[s[key + "_sd"] for s in summary],
               label=label)
    ax.set(xticks=x, ylim=(0, 1.05), title="stand-in task: test split at the val-calibrated threshold")
    ax.set_xticklabels(names, rotation=15, ha="right")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def evidence(model_dir: Path, data: Path, out: Path) -> dict[str, Any]:
    """``creative4u check --evidence`` on the test positive the model scores highest and on a clean test crop."""
    from PIL import Image

    from creative4u.checks.disgust import predict_images
    from creative4u.cli import main as cli_main

    positives = sorted((data / "test" / "object").glob("*.jpg"))
    scores = 1.0 - predict_images([Image.open(p).convert("RGB") for p in positives], model_dir)[0][:, 1]
    best = positives[int(np.argmax(scores))]
    inputs = out / "evidence_input"
    inputs.mkdir(parents=True, exist_ok=True)
    # Enlarged only so the drawn overlay is readable; the check resizes every image to the model's input anyway.
    Image.open(best).resize((384, 384), Image.Resampling.BICUBIC).save(inputs / f"mould_{best.stem}.jpg", quality=95)
    clean = sorted((data / "test" / "none").glob("*.jpg"))[0]
    Image.open(clean).resize((384, 384), Image.Resampling.BICUBIC).save(inputs / f"clean_{clean.stem}.jpg", quality=95)
    profile = out / "profile_disgust.yaml"
    profile.write_text("name: disgust-standin\nchecks:\n"
                       f"  disgust: {{veto: true, options: {{model_dir: '{model_dir}'}}}}\n")
    argv = ["check", *sorted(str(p) for p in inputs.glob("*.jpg")), "--profile", str(profile),
            "--evidence", str(out / "evidence")]
    print("$ creative4u " + " ".join(argv), flush=True)
    rc = cli_main(argv)
    return {"command": "creative4u " + " ".join(argv), "rc": rc, "source_image": str(best),
            "files": sorted(str(p) for p in (out / "evidence").glob("*disgust*"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/disgust-standin", help="output folder")
    parser.add_argument("--sources", default="skimage,debian", help="photo sources (creative4u.data.photos)")
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help=f"comma-separated, of: {', '.join(VARIANTS)}")
    parser.add_argument("--labelled", type=int, default=20, help="labelled images per class")
    parser.add_argument("--unlabelled", type=int, default=400, help="unlabelled pool size")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps per run")
    parser.add_argument("--image-size", type=int, default=96, help="model input side")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: the recipe's, 1)")
    parser.add_argument("--target-precision", type=float, default=0.95, help="calibration target on val")
    parser.add_argument("--opacity", default="0.7,0.95", help="mould overlay opacity range")
    parser.add_argument("--coverage", default="0.15,0.4", help="mould / sticker share of the image, range")
    parser.add_argument("--sticker-share", type=float, default=0.3, help="share of negatives with a sticker")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe override for every variant, e.g. --set backbone=efficientnet_lite0 (repeatable)")
    args = parser.parse_args()
    from creative4u.train.disgust.data import build_standin

    out = Path(args.out)
    started = time.perf_counter()
    photos = load_photos(args.sources.split(","))
    data = out / "data"
    if data.exists():
        shutil.rmtree(data)
    look = {"opacity": _pair(args.opacity), "coverage": _pair(args.coverage), "sticker_share": args.sticker_share}
    manifest = build_standin(data, photos, args.labelled, args.unlabelled, 30, 150, size=128, seed=0, **look)
    print(f"stand-in built from {len(photos)} photos: {manifest['photos']}", flush=True)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; valid: {', '.join(VARIANTS)}")
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name in names:
            src = oracle_copy(data, out / "data_oracle") if name == "oracle" else data
            slug = name.replace("+", "_")
            rows.append(run_variant(name, VARIANTS[name], src, out / "runs" / f"{slug}_s{seed}", seed, args))
    summary = summarise(rows)
    chosen = max(rows, key=lambda r: r["test_ap"])  # the heat map of the model most likely to flag something
    ev = evidence(Path(chosen["model_dir"]), data, out)
    (out / "results.json").write_text(json.dumps({"rows": rows, "summary": summary, "evidence": ev,
                                                  "manifest": {k: v for k, v in manifest.items()
                                                               if k != "unlabelled_truth"},
                                                  "total_minutes": round((time.perf_counter() - started) / 60, 2)},
                                                 indent=2))
    (out / "results.md").write_text(markdown(summary, manifest, args))
    plot(summary, out / "results.png")
    print(markdown(summary, manifest, args))
    print(f"total {(time.perf_counter() - started) / 60:.1f} min; written {out}/results.md, results.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
