"""Training logs and curves: a JSONL metrics logger (a ``TrainerCallback``) and a PNG of loss and reward curves.

>>> import tempfile, pathlib
>>> history = [{"step": s, "loss": 2.0 / s, "reward": 0.2 * s, "frac_reward_zero_std": 0.5} for s in (1, 2, 3)]
>>> png = plot_curves(history, pathlib.Path(tempfile.mkdtemp()) / "curves.png")
>>> png.suffix, png.stat().st_size > 1000
('.png', True)

TRL already logs to TensorBoard (``report_to: tensorboard``, under ``output_dir/runs``); the JSONL file is the
same stream in a form any script can read, and :func:`plot_curves` draws it without TensorBoard.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Panels: (title, keys that may appear in TRL's log lines); a panel is drawn when any of its keys was logged.
PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("loss", ("loss", "eval_loss")),
    ("reward (mean over completions)", ("reward", "eval_reward", "rewards/answer_correct/mean",
                                        "eval_rewards/answer_correct/mean", "rewards/strict_format/mean")),
    ("groups with no reward spread", ("frac_reward_zero_std", "eval_frac_reward_zero_std")),
    ("SFT token accuracy", ("mean_token_accuracy", "eval_mean_token_accuracy")),
)


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The log lines written by :class:`MetricsLogger` (one JSON object per line)."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def series(history: Sequence[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """``(steps, values)`` of one metric across log lines (lines without it are skipped).

    >>> series([{"step": 1, "loss": 3.0}, {"step": 2}, {"step": 3, "loss": 1.0}], "loss")
    ([1, 3], [3.0, 1.0])
    """
    steps, values = [], []
    for i, row in enumerate(history):
        if key in row and isinstance(row[key], (int, float)):
            steps.append(row.get("step", i + 1))
            values.append(float(row[key]))
    return steps, values


def plot_curves(history: Sequence[dict[str, Any]], out_png: str | Path, title: str = "",
                bars: dict[str, float] | None = None) -> Path:
    """Draw every logged panel of :data:`PANELS` (loss, rewards, zero-spread groups, ...) into one PNG.

    ``bars`` adds a bar panel (e.g. held-out accuracy before and after each stage).
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on training machines
    import matplotlib.pyplot as plt

    panels = [(name, [k for k in keys if series(history, k)[0]]) for name, keys in PANELS]
    panels = [(name, keys) for name, keys in panels if keys] or [("no metrics logged", [])]
    n = len(panels) + (1 if bars else 0)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), squeeze=False)
    if bars:
        _bar_panel(axes[0][-1], bars)
    for ax, (name, keys) in zip(axes[0], panels, strict=False):
        for key in keys:
            xs, ys = series(history, key)
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, markersize=3, label=key)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if keys:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _bar_panel(ax: Any, bars: dict[str, float]) -> None:
    names, values = list(bars), [float(v) for v in bars.values()]
    ax.bar(names, values, color=["#999999", "#4c72b0", "#55a868", "#c44e52"][: len(names)])
    for i, v in enumerate(values):
        ax.text(i, v + 0.02, f"{v:.1%}", ha="center", fontsize=9)
    ax.axhline(0.5, color="black", linestyle=":", linewidth=1)  # chance on balanced pairs
    ax.set_ylim(0, 1.1)
    ax.set_title("held-out accuracy (judge, transformers)", fontsize=10)


def _trainer_callback_base() -> type:
    try:
        from transformers import TrainerCallback
    except ImportError:  # pragma: no cover - plots without transformers
        return object
    return TrainerCallback


class MetricsLogger(_trainer_callback_base()):  # type: ignore[misc]
    """Append every log line of a ``Trainer`` (loss, rewards, ...) with its step to a JSONL file.

    >>> import tempfile, pathlib, types
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl"
    >>> cb = MetricsLogger(path)
    >>> state = types.SimpleNamespace(global_step=3, epoch=0.5, is_world_process_zero=True)
    >>> cb.on_log(None, state, None, logs={"loss": 1.5})
    >>> read_metrics(path)
    [{'step': 3, 'epoch': 0.5, 'loss': 1.5}]
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any) -> None:
        if not logs or not getattr(state, "is_world_process_zero", True):
            return
        row = {"step": state.global_step, "epoch": state.epoch, **logs}
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, default=float) + "\n")
