"""Train the disgust classifier with the cold-start recipe: mean teacher, OHEM, cascade, calibration, ONNX.

>>> from creative4u.train.disgust.config import load_train_config
>>> cfg = load_train_config("recipes/disgust/config_cpu_standin.yaml", ["data_dir=/tmp/x"])  # doctest: +SKIP
>>> report = train_disgust(cfg)  # doctest: +SKIP
>>> report["test"]["precision"], report["test"]["recall"]  # doctest: +SKIP
(0.97, 0.91)

Run it as ``creative4u train disgust --config recipes/disgust/config_cpu_standin.yaml [--set key=value ...]``.
What one run does, each piece switched by the config (:mod:`creative4u.train.disgust.config`):

1. scan and validate ``DATA`` (:mod:`.data`), decode every image once at the input size;
2. stage 1: a student trained on labelled batches (balanced sampling or not; cross-entropy or focal loss, optional
   class weights; OHEM keeps the hardest share of each batch), and with ``mean_teacher`` an EMA teacher whose
   predictions on differently augmented labelled + unlabelled images the student must match (consistency MSE,
   sigmoid ramp-up; Tarvainen & Valpola, 2017); the teacher is the model kept;
3. with ``cascade``: per class, the labelled images stage 1 finds hardest (mean loss over augmented views) train
   stage 2 (warm-started from stage 1); the two are combined by the ``gate`` or ``mean`` rule;
4. the threshold on ``1 - P(none)`` is calibrated on the validation split for ``target_precision``, and the test
   split (if any) is reported at that threshold: precision, recall, FPR, AP, per-category recall;
5. the folder is written (``disgust.json``, ``model.safetensors``, ``model.onnx`` verified against torch,
   ``report.json``, ``report.md``, ``pr_curve.png``) and is ready for the ``disgust`` check.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from creative4u.checks.disgust_model import DisgustModel, DisgustNet, build_stage, save_disgust_model, torch_threads
from creative4u.train.disgust.calibrate import calibrate_threshold, evaluate_at, plot_pr
from creative4u.train.disgust.config import DisgustTrainConfig
from creative4u.train.disgust.data import DatasetIndex, IndexSampler, augment, load_pixels, normalise, scan_dataset


@dataclass
class Splits:
    """Decoded pixels (uint8 ``N x 3 x S x S``) and labels of every split."""

    index: DatasetIndex
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    unlabelled_x: torch.Tensor


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def per_sample_loss(logits: torch.Tensor, targets: torch.Tensor, kind: str = "ce", gamma: float = 2.0,
                    weight: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy or focal loss (Lin et al., 2017) per sample, optionally class-weighted.

    >>> logits, y = torch.tensor([[4.0, 0.0], [0.0, 4.0]]), torch.tensor([0, 0])
    >>> bool(per_sample_loss(logits, y, "focal")[0] < per_sample_loss(logits, y, "ce")[0])
    True
    """
    log_p = F.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0]
    loss = -log_p if kind == "ce" else -((1 - log_p.exp()) ** gamma) * log_p
    return loss * weight[targets] if weight is not None else loss


def ohem(losses: torch.Tensor, keep: float, min_kept: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Online hard-example mining: the mean of the ``keep`` share of highest losses, and their indices.

    >>> ohem(torch.tensor([0.1, 3.0, 0.2, 2.0]), keep=0.5)
    (tensor(2.5000), tensor([1, 3]))
    """
    k = min(len(losses), max(min_kept, math.ceil(keep * len(losses))))
    top = torch.topk(losses, k).indices
    return losses[top].mean(), top


def sigmoid_rampup(step: int, length: int) -> float:
    """``exp(-5 (1 - t)^2)`` ramp from ~0 to 1 over ``length`` steps (the mean-teacher schedule).

    >>> sigmoid_rampup(0, 100) < 0.01, sigmoid_rampup(100, 100)
    (True, 1.0)
    """
    if length <= 0:
        return 1.0
    t = min(max(step, 0), length) / length
    return float(math.exp(-5.0 * (1.0 - t) ** 2))


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, decay: float) -> None:
    """``teacher = decay * teacher + (1 - decay) * student`` for the weights.

    BatchNorm statistics are not averaged: the teacher runs in train mode on its own batches, so its running
    statistics describe the teacher's weights rather than a blend of the student's.
    """
    for t, s in zip(teacher.parameters(), student.parameters(), strict=True):
        t.mul_(decay).add_(s.detach(), alpha=1 - decay)


def lr_at(step: int, cfg: DisgustTrainConfig) -> float:
    """Linear warm-up then cosine decay to 5% of the peak."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def normalisation(cfg: DisgustTrainConfig) -> tuple[list[float], list[float]]:
    """Mean/std of the backbone's image processor when the folder has one; MobileNet-V2's 0.5/0.5 otherwise."""
    proc = Path(cfg.backbone) / "preprocessor_config.json"
    if proc.is_file():
        raw = json.loads(proc.read_text())
        if "image_mean" in raw and "image_std" in raw:
            return list(raw["image_mean"]), list(raw["image_std"])
    return [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]


def load_splits(cfg: DisgustTrainConfig) -> Splits:
    """Scan the data folder and decode every split once."""
    index = scan_dataset(cfg.data_dir, cfg.classes or None, cfg.negative_class, cfg.val_fraction, cfg.seed)
    if not index.val:
        raise ValueError(f"{cfg.data_dir}: the validation split is empty; add val/<class>/ or set val_fraction > 0")
    unl = index.unlabelled
    if cfg.max_unlabelled and len(unl) > cfg.max_unlabelled:
        unl = random.Random(cfg.seed).sample(unl, cfg.max_unlabelled)
    if cfg.mean_teacher and not unl:
        print("disgust: no unlabelled images; the consistency loss uses the labelled ones only", file=sys.stderr)

    def labelled(items: list[tuple[Path, int]], name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = load_pixels([p for p, _ in items], cfg.image_size, cfg.progress, name)
        return x, torch.tensor([y for _, y in items], dtype=torch.long)

    unl_x = load_pixels(unl, cfg.image_size, cfg.progress, "unlabelled") if cfg.mean_teacher else None
    return Splits(index, *labelled(index.train, "train"), *labelled(index.val, "val"),
                  *labelled(index.test, "test"), unl_x if unl_x is not None else torch.zeros(0, dtype=torch.uint8))


def stage_spec(cfg: DisgustTrainConfig) -> dict[str, Any]:
    keys = ("backbone", "backbone_config", "allow_download", "cbam", "cbam_reduction", "cbam_kernel", "dropout")
    return {k: getattr(cfg, k) for k in keys}


class StageTrainer:
    """The optimisation loop of one stage (student, optional EMA teacher)."""

    def __init__(self, cfg: DisgustTrainConfig, splits: Splits, mean: list[float], std: list[float]) -> None:
        self.cfg, self.splits, self.mean, self.std = cfg, splits, mean, std
        self.num_classes = len(splits.index.classes)
        counts = torch.bincount(splits.train_y, minlength=self.num_classes).float().clamp(min=1)
        balanced = counts.sum() / (self.num_classes * counts)
        self.class_weight = balanced if cfg.class_weights == "balanced" else None

    def inputs(self, x_uint8: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = augment(x_uint8.float() / 255.0, generator, tuple(self.cfg.augment_scale), self.cfg.augment_jitter)
        x = normalise(x, self.mean, self.std)
        return x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x

    def supervised(self, logits: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Mean per-sample loss, or the OHEM mean over the hardest share of the batch."""
        losses = per_sample_loss(logits, yb, self.cfg.loss, self.cfg.focal_gamma, self.class_weight)
        if self.cfg.ohem:
            loss, kept = ohem(losses, self.cfg.ohem_keep, self.cfg.ohem_min_kept)
            return loss, {"kept": int(len(kept))}
        return losses.mean(), {}

    def step_loss(self, student: DisgustNet, teacher: DisgustNet | None, xb: torch.Tensor, yb: torch.Tensor,
                  xu: torch.Tensor | None, step: int, gen: torch.Generator) -> tuple[torch.Tensor, dict]:
        """One batch: supervised loss, plus (mean teacher) the ramped consistency loss on labelled + unlabelled.

        The student sees one augmentation of every image and the teacher another; the consistency target is the
        teacher's class distribution (MSE between probabilities, summed over classes).
        """
        if teacher is None:
            loss, info = self.supervised(student(self.inputs(xb, gen))[0], yb)
            return loss, {"supervised": loss.item(), **info}
        both = torch.cat([xb, xu]) if xu is not None else xb
        s_logits, _ = student(self.inputs(both, gen))
        with torch.no_grad():
            t_logits, _ = teacher(self.inputs(both, gen))
        sup, info = self.supervised(s_logits[: len(yb)], yb)
        cons = ((s_logits.softmax(-1) - t_logits.softmax(-1)) ** 2).sum(-1).mean()
        weight = self.cfg.consistency_weight * sigmoid_rampup(step, self.cfg.consistency_rampup)
        return sup + weight * cons, {"supervised": sup.item(), "consistency": cons.item(), **info}

    def fit(self, student: DisgustNet, subset: torch.Tensor | None = None, desc: str = "stage 1") -> tuple:
        """Train ``student`` (on ``subset`` indices of the training split); return (kept model, history)."""
        from tqdm.auto import tqdm

        cfg, sp = self.cfg, self.splits
        idx = subset if subset is not None else torch.arange(len(sp.train_y))
        x_l, y_l = sp.train_x[idx], sp.train_y[idx]
        gen = torch.Generator().manual_seed(cfg.seed + 17)
        lab = IndexSampler(y_l.tolist(), len(y_l), cfg.batch_size, cfg.sampling == "balanced", cfg.seed)
        pool = sp.unlabelled_x if len(sp.unlabelled_x) else x_l
        unl = IndexSampler(None, len(pool), cfg.unlabelled_batch_size, False, cfg.seed + 1)
        teacher = copy.deepcopy(student) if cfg.mean_teacher else None
        opt = torch.optim.AdamW(student.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        history: list[dict[str, float]] = []
        fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
        student.to(memory_format=fmt)
        if teacher is not None:
            teacher.to(memory_format=fmt)
        bar = tqdm(range(cfg.steps), desc=desc, disable=not cfg.progress, leave=False)
        student.train()
        for step in bar:
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg)
            b = next(lab)
            xu = pool[next(unl)] if teacher is not None else None
            loss, record = self.step_loss(student, teacher, x_l[b], y_l[b], xu, step, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if teacher is not None:
                ema_update(teacher, student, min(1 - 1 / (step + 2), cfg.ema_decay))
            if step % 10 == 0 or step == cfg.steps - 1:
                history.append({"step": step, **record})
                bar.set_postfix(loss=f"{loss.item():.3f}")
        kept = teacher if teacher is not None and cfg.eval_model == "teacher" else student
        return kept.to(memory_format=torch.contiguous_format).eval(), history


@torch.no_grad()
def predict(model: nn.Module, x_uint8: torch.Tensor, mean: list[float], std: list[float],
            batch_size: int = 64) -> np.ndarray:
    """Class probabilities of a :class:`DisgustModel` (or logits->softmax of a :class:`DisgustNet`)."""
    model.eval()
    out = []
    for start in range(0, len(x_uint8), batch_size):
        first = model(normalise(x_uint8[start : start + batch_size], mean, std))[0]
        out.append(first if isinstance(model, DisgustModel) else first.softmax(-1))
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


@torch.no_grad()
def hardest_indices(net: DisgustNet, trainer: StageTrainer, fraction: float, views: int = 4) -> torch.Tensor:
    """Per class, the ``fraction`` of training images with the highest stage-1 loss (mean over augmented views)."""
    sp, cfg = trainer.splits, trainer.cfg
    gen = torch.Generator().manual_seed(cfg.seed + 99)
    net.eval()
    losses = torch.zeros(len(sp.train_y))
    for _ in range(views):
        for start in range(0, len(sp.train_y), 64):
            sl = slice(start, start + 64)
            logits, _ = net(trainer.inputs(sp.train_x[sl], gen))
            losses[sl] += per_sample_loss(logits, sp.train_y[sl], cfg.loss, cfg.focal_gamma)
    chosen = []
    for label in torch.unique(sp.train_y):
        members = torch.nonzero(sp.train_y == label)[:, 0]
        k = max(2, math.ceil(fraction * len(members)))
        chosen.append(members[torch.topk(losses[members], min(k, len(members))).indices])
    return torch.cat(chosen)


def binary(y: torch.Tensor, negative_index: int) -> np.ndarray:
    return (y.numpy() != negative_index).astype(int)


def scores_of(probs: np.ndarray, negative_index: int) -> np.ndarray:
    return 1.0 - probs[:, negative_index]


def train_stages(cfg: DisgustTrainConfig, splits: Splits, mean: list[float], std: list[float]) -> tuple:
    """Stage 1, and stage 2 when ``cascade``: ``(DisgustModel, history, timings)``."""
    trainer = StageTrainer(cfg, splits, mean, std)
    neg = splits.index.classes.index(splits.index.negative_class)
    set_seed(cfg.seed)
    start = time.perf_counter()
    first, hist1 = trainer.fit(build_stage(stage_spec(cfg), trainer.num_classes, cfg.image_size), desc="stage 1")
    timings = {"stage1_s": round(time.perf_counter() - start, 1)}
    stages, history = [first], {"stage1": hist1}
    if cfg.cascade:
        hard = hardest_indices(first, trainer, cfg.cascade_hard_fraction)
        start = time.perf_counter()
        second, hist2 = trainer.fit(copy.deepcopy(first), subset=hard, desc="stage 2 (hard)")
        timings["stage2_s"] = round(time.perf_counter() - start, 1)
        stages.append(second)
        history["stage2"] = hist2
        history["stage2_train_size"] = int(len(hard))
    model = DisgustModel(stages, neg, cfg.cascade_mode, tuple(cfg.cascade_band)).eval()
    return model, history, timings


def evaluate(model: DisgustModel, cfg: DisgustTrainConfig, splits: Splits, mean: list[float],
             std: list[float]) -> tuple[dict[str, Any], Any, np.ndarray, np.ndarray]:
    """Calibrate on val, report val and test at the calibrated threshold."""
    classes, neg = splits.index.classes, model.negative_index
    val_scores = scores_of(predict(model, splits.val_x, mean, std), neg)
    val_labels = binary(splits.val_y, neg)
    cal = calibrate_threshold(val_scores, val_labels, cfg.target_precision, cfg.prevalence)
    cats = [classes[i] for i in splits.val_y.tolist()]
    out = {"calibration": cal.to_dict(), "val": evaluate_at(val_scores, val_labels, cal.threshold, cats)}
    if len(splits.test_y):
        test_scores = scores_of(predict(model, splits.test_x, mean, std), neg)
        test_labels = binary(splits.test_y, neg)
        test_cats = [classes[i] for i in splits.test_y.tolist()]
        out["test"] = evaluate_at(test_scores, test_labels, cal.threshold, test_cats, cfg.prevalence)
        if cfg.prevalence is not None:
            out["test_at_split_prevalence"] = evaluate_at(test_scores, test_labels, cal.threshold, test_cats)
    return out, cal, val_scores, val_labels


def train_disgust(cfg: DisgustTrainConfig) -> dict[str, Any]:
    """One full run; returns the report (also written to ``output_dir/report.json``)."""
    cfg.validate()
    with torch_threads(cfg.threads):
        return _train(cfg)


def _train(cfg: DisgustTrainConfig) -> dict[str, Any]:
    started = time.perf_counter()
    splits = load_splits(cfg)
    mean, std = normalisation(cfg)
    model, history, timings = train_stages(cfg, splits, mean, std)
    metrics, cal, val_scores, val_labels = evaluate(model, cfg, splits, mean, std)
    out = Path(cfg.output_dir)
    meta = {"classes": splits.index.classes, "negative_class": splits.index.negative_class,
            "image_size": cfg.image_size, "mean": mean, "std": std, "threshold": cal.threshold,
            "calibration": cal.to_dict(), "data": splits.index.counts(), "train_config": cfg.to_dict()}
    save_disgust_model(model, out, meta)
    report: dict[str, Any] = {"output_dir": str(out), "data": splits.index.counts(), **metrics,
                              "timings": timings, "parameters": sum(p.numel() for p in model.parameters())}
    if cfg.export_onnx:
        from creative4u.train.disgust.export import export_model_dir

        real = normalise(splits.val_x[:8], mean, std).numpy()
        report["onnx"] = export_model_dir(out, real, cfg.onnx_opset, cfg.onnx_tolerance, cfg.seed)
    report["timings"]["total_s"] = round(time.perf_counter() - started, 1)
    report["config"] = cfg.to_dict()
    write_report(out, report, history, val_scores, val_labels, cal)
    return report


def write_report(out: Path, report: dict[str, Any], history: dict[str, Any], val_scores: np.ndarray,
                 val_labels: np.ndarray, cal: Any) -> None:
    """``report.json``, ``history.json``, ``pr_curve.png`` and a readable ``report.md``."""
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    (out / "history.json").write_text(json.dumps(history, default=str))
    with contextlib.suppress(ImportError):  # matplotlib is in the data extra; report.json has the numbers anyway
        plot_pr(val_scores, val_labels, cal, str(out / "pr_curve.png"), "disgust: validation PR curve")
    (out / "report.md").write_text(format_report(report))


def format_report(report: dict[str, Any]) -> str:
    """A short Markdown summary of a run."""
    cal = report["calibration"]
    lines = ["# Disgust classifier: training report", "",
             f"- output: `{report['output_dir']}`; parameters: {report['parameters']:,}",
             f"- data: {json.dumps(report['data'])}",
             f"- calibrated threshold {cal['threshold']:.4f} for precision >= {cal['target_precision']} on val "
             f"({'met' if cal['met'] else 'NOT met: best-F1 threshold used'}): precision {cal['precision']}, "
             f"recall {cal['recall']}"]
    for split in ("val", "test"):
        if split in report:
            m = report[split]
            lines.append(f"- {split} at that threshold: precision {m['precision']}, recall {m['recall']}, "
                         f"FPR {m['false_positive_rate']}, AP {m['average_precision']}, per-category recall "
                         f"{m.get('recall_per_category', {})}")
    if "onnx" in report:
        lines.append(f"- ONNX vs torch: max |dprob| {report['onnx']['max_abs_diff']:.2e} on "
                     f"{report['onnx']['n_images']} inputs")
    lines.append(f"- timings: {report['timings']}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``creative4u train disgust --config FILE [--set key=value ...]``."""
    import argparse

    from creative4u.config import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(prog="creative4u train disgust", description="Train the disgust classifier.")
    add_config_arguments(parser, DisgustTrainConfig)
    args = parser.parse_args(argv)
    report = train_disgust(config_from_args(DisgustTrainConfig, args).validate())
    print(format_report(report))
    return 0


def run(args: Any) -> int:
    """Entry point for a CLI dispatch table that passes an argparse namespace (``args.config``, ``args.overrides``)."""
    argv = ["--config", args.config] if getattr(args, "config", None) else []
    for item in getattr(args, "overrides", None) or []:
        argv += ["--set", item]
    return main(argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
