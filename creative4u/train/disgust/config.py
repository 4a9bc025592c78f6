"""Settings of the disgust-classifier recipe: one flat dataclass, read by :mod:`creative4u.config`.

>>> cfg = load_train_config(None, ["data_dir=/data/disgust", "mean_teacher=false", "ohem=true"])
>>> cfg.mean_teacher, cfg.ohem, cfg.loss
(False, True, 'ce')

Every ingredient of the industrial cold-start recipe is one field, so an ablation is one override
(``--set mean_teacher=false``). ``creative4u train disgust --help-config`` prints every field with its help.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative4u.config import load_config, to_dict

LOSSES = ("ce", "focal")
SAMPLINGS = ("uniform", "balanced")
CASCADE_MODES = ("gate", "mean")
EVAL_MODELS = ("teacher", "student")


@dataclass
class DisgustTrainConfig:
    """One training run of the disgust classifier (see ``recipes/disgust/`` for complete examples)."""

    # --- data -------------------------------------------------------------------------------------------------
    data_dir: str = field(default="", metadata={"help": "Folder with labelled/<class>/, unlabelled/, val/, test/."})
    output_dir: str = field(default="runs/disgust", metadata={"help": "Where the model, ONNX file and report go."})
    classes: list[str] = field(
        default_factory=lambda: ["animal", "human", "object", "none"],
        metadata={"help": "Class folder names; the labelled folders must match exactly (empty: take the folders)."},
    )
    negative_class: str = field(default="none", metadata={"help": "The class that means 'not disgusting'."})
    val_fraction: float = field(
        default=0.2, metadata={"help": "Share of labelled images held out for calibration when there is no val/."}
    )
    image_size: int = field(default=224, metadata={"help": "Square input side in pixels (train and inference)."})
    max_unlabelled: int = field(
        default=0, metadata={"help": "Use at most this many unlabelled images (0: all); images are decoded once "
                                     "into memory as uint8 (150 kB each at 224 px)."}
    )
    # --- backbone ---------------------------------------------------------------------------------------------
    backbone: str = field(
        default="mobilenet_v2",
        metadata={"help": "'mobilenet_v2' (real architecture, random init), 'efficientnet_lite0' (ImageNet-pretrained "
                          "from its pip wheel, Apache-2.0), 'tiny' (test size), or a model folder / hub id loaded "
                          "with AutoModelForImageClassification."},
    )
    backbone_config: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Config overrides for 'mobilenet_v2'/'tiny' (e.g. depth_multiplier)."}
    )
    allow_download: bool = field(
        default=False, metadata={"help": "Let from_pretrained reach the hub (default: local files only)."}
    )
    cbam: bool = field(
        default=True, metadata={"help": "Insert a CBAM channel+spatial attention block before the head."}
    )
    cbam_reduction: int = field(default=16, metadata={"help": "CBAM channel-MLP reduction ratio."})
    cbam_kernel: int = field(default=7, metadata={"help": "CBAM spatial-attention convolution size."})
    dropout: float = field(default=0.2, metadata={"help": "Dropout before the linear head."})
    # --- optimisation -----------------------------------------------------------------------------------------
    steps: int = field(default=2000, metadata={"help": "Optimizer steps per stage."})
    batch_size: int = field(default=32, metadata={"help": "Labelled images per step."})
    lr: float = field(default=1e-3, metadata={"help": "Peak AdamW learning rate (linear warm-up, cosine decay)."})
    weight_decay: float = field(default=1e-4, metadata={"help": "AdamW weight decay."})
    warmup_steps: int = field(default=50, metadata={"help": "Linear learning-rate warm-up steps."})
    seed: int = field(default=0, metadata={"help": "Seed of initialisation, sampling and augmentation."})
    threads: int = field(default=0, metadata={"help": "torch CPU threads (0: torch's default)."})
    channels_last: bool = field(
        default=True, metadata={"help": "Train in NHWC memory format (CPU: ~1.6x faster depthwise convolutions)."}
    )
    augment_scale: list[float] = field(
        default_factory=lambda: [0.6, 1.0], metadata={"help": "Random-crop side range, as a share of the image."}
    )
    augment_jitter: float = field(default=0.2, metadata={"help": "Brightness/contrast/saturation jitter strength."})
    # --- class imbalance --------------------------------------------------------------------------------------
    loss: str = field(default="ce", metadata={"help": "'ce' (cross-entropy) or 'focal'."})
    focal_gamma: float = field(default=2.0, metadata={"help": "Focal-loss focusing parameter."})
    class_weights: str = field(
        default="none", metadata={"help": "'none' or 'balanced' (inverse class frequency in the loss)."}
    )
    sampling: str = field(default="balanced", metadata={"help": "'uniform' or 'balanced' (equal classes per batch)."})
    # --- online hard-example mining ---------------------------------------------------------------------------
    ohem: bool = field(default=False, metadata={"help": "Back-propagate only the hardest labelled samples."})
    ohem_keep: float = field(default=0.5, metadata={"help": "Share of each batch kept by OHEM (highest loss)."})
    ohem_min_kept: int = field(default=4, metadata={"help": "Keep at least this many samples per batch."})
    # --- mean teacher -----------------------------------------------------------------------------------------
    mean_teacher: bool = field(
        default=True, metadata={"help": "Semi-supervised mean teacher on labelled + unlabelled images."}
    )
    unlabelled_batch_size: int = field(default=32, metadata={"help": "Unlabelled images per step."})
    ema_decay: float = field(default=0.99, metadata={"help": "Teacher EMA decay after the ramp-up."})
    consistency_weight: float = field(default=10.0, metadata={"help": "Weight of the consistency loss at full ramp."})
    consistency_rampup: int = field(default=200, metadata={"help": "Steps of the sigmoid consistency ramp-up."})
    eval_model: str = field(default="teacher", metadata={"help": "Model kept after mean-teacher training."})
    # --- two-stage cascade ------------------------------------------------------------------------------------
    cascade: bool = field(default=False, metadata={"help": "Train a second model on the first one's hardest samples."})
    cascade_hard_fraction: float = field(
        default=0.5, metadata={"help": "Share of each class's labelled images (highest stage-1 loss) for stage 2."}
    )
    cascade_mode: str = field(
        default="gate", metadata={"help": "'gate': stage 2 decides where stage 1 is unsure; 'mean': average both."}
    )
    cascade_band: list[float] = field(
        default_factory=lambda: [0.1, 0.9], metadata={"help": "Stage-1 score band that counts as unsure ('gate')."}
    )
    # --- calibration and export -------------------------------------------------------------------------------
    target_precision: float = field(default=0.95, metadata={"help": "Calibrate the threshold for this precision."})
    prevalence: float | None = field(
        default=None, metadata={"help": "Expected share of positives in production; precision is re-weighted to it."}
    )
    export_onnx: bool = field(default=True, metadata={"help": "Export model.onnx and verify it against torch."})
    onnx_opset: int = field(default=17, metadata={"help": "ONNX opset version."})
    onnx_tolerance: float = field(default=1e-4, metadata={"help": "Largest accepted |onnx - torch| probability."})
    progress: bool = field(default=True, metadata={"help": "Show tqdm progress bars."})

    def validate(self) -> DisgustTrainConfig:
        """Raise ValueError naming the first bad field."""
        checks = [
            (self.loss in LOSSES, f"loss must be one of {LOSSES}"),
            (self.sampling in SAMPLINGS, f"sampling must be one of {SAMPLINGS}"),
            (self.class_weights in ("none", "balanced"), "class_weights must be 'none' or 'balanced'"),
            (self.cascade_mode in CASCADE_MODES, f"cascade_mode must be one of {CASCADE_MODES}"),
            (self.eval_model in EVAL_MODELS, f"eval_model must be one of {EVAL_MODELS}"),
            (0 < self.ohem_keep <= 1, "ohem_keep must be in (0, 1]"),
            (0 < self.cascade_hard_fraction <= 1, "cascade_hard_fraction must be in (0, 1]"),
            (0 <= self.val_fraction < 1, "val_fraction must be in [0, 1)"),
            (0 < self.target_precision <= 1, "target_precision must be in (0, 1]"),
            (self.prevalence is None or 0 < self.prevalence < 1, "prevalence must be in (0, 1) or null"),
            (0 <= self.ema_decay < 1, "ema_decay must be in [0, 1)"),
            (self.image_size >= 32, "image_size must be >= 32"),
            (self.steps >= 1 and self.batch_size >= 2, "steps must be >= 1 and batch_size >= 2"),
            (len(self.augment_scale) == 2 and 0 < self.augment_scale[0] <= self.augment_scale[1] <= 1,
             "augment_scale must be [low, high] with 0 < low <= high <= 1"),
            (len(self.cascade_band) == 2 and 0 <= self.cascade_band[0] < self.cascade_band[1] <= 1,
             "cascade_band must be [low, high] with 0 <= low < high <= 1"),
            (not self.classes or self.negative_class in self.classes, "negative_class must be one of classes"),
            (bool(self.data_dir), "data_dir is required"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"disgust config: {message}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def load_train_config(path: str | Path | None = None, overrides: Sequence[str] | None = None,
                      validate: bool = True) -> DisgustTrainConfig:
    """Read a YAML recipe (keys = field names), apply ``--set`` overrides; unknown keys are an error, never ignored.

    >>> load_train_config(None, ["data_dir=d", "cascade_band=[0.2, 0.8]"]).cascade_band
    [0.2, 0.8]
    """
    cfg = load_config(DisgustTrainConfig, path, overrides or (), where=str(path) if path else "disgust config")
    return cfg.validate() if validate else cfg
