"""Build the two training formats TRL expects from CreativePairs, with the judge's own prompt, and a dataset card.

>>> import tempfile, pathlib
>>> from PIL import Image
>>> from creative4u.data.pairs import CreativePair
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> Image.new("RGB", (64, 64), (200, 180, 160)).save(d / "a.jpg")
>>> Image.new("RGB", (64, 64), (20, 18, 16)).save(d / "b.jpg")
>>> pair = CreativePair("p1", str(d / "a.jpg"), str(d / "b.jpg"), "A", title="Mug", rationale="A is brighter.")
>>> ds = build_sft_dataset([pair], balance=False)
>>> ds[0]["completion"][0]["content"][0]["text"]
'<think>A is brighter.</think><answer>A</answer>'
>>> [part["type"] for part in ds[0]["prompt"][1]["content"]], len(ds[0]["images"])
(['text', 'image', 'text', 'image', 'text'], 2)

* **SFT** (``SFTTrainer``): ``images`` (Image A, Image B), ``prompt`` (the conversational messages of
  :func:`creative4u.prompts.render_prompt`, exactly what the ``transformers`` judge renders), ``completion`` (the
  assistant message ``<think>{rationale}</think><answer>{label}</answer>``), plus ``id``, ``pair_id``, ``label``,
  ``swapped``, ``category`` and ``rationale_source``.
* **GRPO** (``GRPOTrainer``): ``prompt``, ``images``, ``label`` and the columns the rewards read (``pair_id``,
  ``swapped`` for order consistency), plus ``id`` and ``category``. With ``both_orders`` each pair appears twice,
  the swapped copy right after the original, so both orders share a generation batch.

Images are loaded with the project's safe loader and scaled to ``max_pixels`` exactly as the judge backends do
(:func:`creative4u.images.prepare_image`); they are stored re-encoded (JPEG sources as JPEG quality 95, others as
PNG) so a large set stays on disk at a sensible size. ``save_dataset`` writes Arrow (``save_to_disk``) or Parquet
with a ``README.md`` dataset card and ``summary.json``.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative4u.data.pairs import CreativePair, read_pairs
from creative4u.data.validate import balance_positions, summarize_pairs, validate_pairs

RATIONALE_MODES = ("auto", "field", "template")
DEFAULT_MAX_PIXELS = 1280 * 28 * 28  # the judge backends' default (creative4u.judge.vlm.DEFAULT_MAX_PIXELS)


@dataclass
class BuildConfig:
    """How CreativePairs become training rows (YAML ``data:`` keys or ``creative4u data build-sft`` flags)."""

    rationale: str = field(default="auto", metadata={
        "help": "where the <think> text comes from: field (the pair's rationale, required), template (from the "
                "check reports), auto (the field when present, else the template)"})
    with_checks: bool = field(default=False, metadata={
        "help": "quote the check reports in the prompt (as the judge does when screens are passed); off: the "
                "model must judge from the pixels alone"})
    profile: str = field(default="default", metadata={"help": "check profile for prompts and template rationales"})
    template_items: list[int] | None = field(default=None, metadata={
        "help": "protocol items a template rationale covers (default all nine; 9 is always included)"})
    template_scores: bool = field(default=True, metadata={
        "help": "template rationales quote the deciding check scores (off: shorter targets for small models)"})
    max_pixels: int = field(default=DEFAULT_MAX_PIXELS, metadata={"help": "scale images to at most this many pixels"})
    both_orders: bool = field(default=False, metadata={
        "help": "add each pair in swapped order right after it (GRPO order consistency; SFT: template "
                "rationales only)"})
    balance: bool = field(default=True, metadata={"help": "swap half of the pairs so labels A/B are balanced"})
    seed: int = field(default=0, metadata={"help": "seed for balancing"})
    prompt_version: str = field(default="creative4u_v1", metadata={"help": "prompt template version"})
    cache_dir: str | None = field(default=None, metadata={"help": "on-disk cache of check measurements"})

    def __post_init__(self) -> None:
        if self.rationale not in RATIONALE_MODES:
            raise ValueError(f"rationale must be one of {RATIONALE_MODES}, got {self.rationale!r}")
        if self.max_pixels < 28 * 28:
            raise ValueError(f"max_pixels must be at least {28 * 28}, got {self.max_pixels}")


def _encode(image: Any, source_format: str) -> dict[str, Any]:
    """Image bytes for a ``datasets.Image`` column: JPEG q95 for JPEG sources (size), PNG otherwise (lossless)."""
    buf = io.BytesIO()
    if source_format == "JPEG":
        image.save(buf, format="JPEG", quality=95, subsampling=0)
    else:
        image.save(buf, format="PNG", compress_level=3)
    return {"bytes": buf.getvalue(), "path": None}


class _Context:
    """Per-build state: loaded images (by path) and the check suite, so each image is read and screened once."""

    def __init__(self, cfg: BuildConfig, need_screens: bool) -> None:
        self.cfg = cfg
        self.suite = None
        if need_screens:
            from creative4u.checks.suite import CheckSuite

            self.suite = CheckSuite(cfg.profile, cache_dir=cfg.cache_dir)
        self._images: dict[str, tuple[Any, dict[str, Any], Any]] = {}

    def image(self, path: str) -> tuple[Any, dict[str, Any], Any]:
        """(prepared PIL image, encoded bytes, screen or None) of one file."""
        if path not in self._images:
            from creative4u.images import load_image, prepare_image

            loaded = load_image(path)
            prepared = prepare_image(loaded.image, self.cfg.max_pixels)
            screen = self.suite.screen(loaded) if self.suite is not None else None
            self._images[path] = (prepared, _encode(prepared, loaded.format), screen)
        return self._images[path]


def completion_text(rationale: str, label: str) -> str:
    """The assistant text SFT teaches: ``<think>{rationale}</think><answer>{label}</answer>``.

    >>> completion_text("Image B is sharper.", "B")
    '<think>Image B is sharper.</think><answer>B</answer>'

    A rationale that is already a full ``<think>…</think><answer>…</answer>`` text must answer ``label``; any
    other rationale holding a tag, an empty one, or a label other than A/B raises ``ValueError``
    (:func:`creative4u.answer_format.format_completion` builds and checks the text).
    """
    from creative4u.answer_format import ANSWER_OPEN, THINK_OPEN, format_completion, parse_answer

    text = rationale.strip()
    if ANSWER_OPEN in text or THINK_OPEN in text:
        parsed = parse_answer(text)
        if not parsed.ok:
            raise ValueError(f"rationale has tags but is not a valid answer ({parsed.reason}): {text[:80]!r}")
        if label in ("A", "B") and parsed.answer != label:
            raise ValueError(f"rationale answers {parsed.answer} but the label is {label}")
        text = parsed.reasoning
    return format_completion(text, label)


def _rationale(pair: CreativePair, cfg: BuildConfig, screens: tuple[Any, Any]) -> tuple[str, str]:
    """(rationale, source) under the build's rationale mode."""
    from creative4u.data.rationales import template_rationale

    if cfg.rationale == "field" or (cfg.rationale == "auto" and pair.rationale):
        if not pair.rationale:
            raise ValueError(f"pair {pair.id!r} has no rationale (use rationale: template or auto)")
        return pair.rationale, str(pair.extra.get("rationale_source", "field"))
    text = template_rationale(pair, screens[0], screens[1], cfg.template_items, scores=cfg.template_scores)
    return text, "template"


def _row_base(pair: CreativePair, ctx: _Context, swapped: bool) -> tuple[dict[str, Any], tuple[Any, Any]]:
    """The columns both formats share, and the two screens (for template rationales)."""
    from creative4u.prompts import render_prompt

    (_, enc_a, screen_a), (_, enc_b, screen_b) = ctx.image(pair.image_a), ctx.image(pair.image_b)
    shown = (screen_a, screen_b) if ctx.cfg.with_checks else (None, None)
    prompt = render_prompt(pair.title, pair.queries, shown[0], shown[1], ctx.cfg.prompt_version)
    pair_id = str(pair.extra.get("pair_id", pair.id))
    row = {
        "id": pair.id, "pair_id": pair_id, "label": pair.label, "swapped": swapped, "category": pair.category,
        "images": [enc_a, enc_b], "prompt": prompt.trl_prompt(),
    }
    return row, (screen_a, screen_b)


def _orders(pairs: Sequence[CreativePair], cfg: BuildConfig) -> list[tuple[CreativePair, bool]]:
    """The pairs in training order: balanced, ties dropped, and with swapped copies when ``both_orders``."""
    kept = [p for p in pairs if p.label in ("A", "B")]
    if cfg.balance and not cfg.both_orders:
        kept = balance_positions(kept, cfg.seed)
    if cfg.both_orders:  # shuffled here, pair by pair: the trainer must not shuffle (it would split the orders)
        random.Random(cfg.seed).shuffle(kept)
    out: list[tuple[CreativePair, bool]] = []
    for p in kept:
        base_swapped = bool(p.extra.get("swapped", False))
        out.append((p, base_swapped))
        if cfg.both_orders:
            mirrored = p.swapped()
            mirrored.id = f"{p.id}~swapped"
            mirrored.extra = {**p.extra, "pair_id": str(p.extra.get("pair_id", p.id))}
            out.append((mirrored, not base_swapped))
    return out


def _pairs(source: str | Path | Sequence[CreativePair]) -> list[CreativePair]:
    if isinstance(source, (str, Path)):
        report = validate_pairs(source)
        report.raise_if_errors()
        return report.pairs
    return list(source)


def _dataset(rows: list[dict[str, Any]], kind: str) -> Any:
    from datasets import Dataset, Features, Image, List, Value

    part = {"type": Value("string"), "text": Value("string")}
    messages = List({"role": Value("string"), "content": List(part)})
    cols = {"id": Value("string"), "pair_id": Value("string"), "label": Value("string"), "swapped": Value("bool"),
            "category": Value("string"), "images": List(Image()), "prompt": messages}
    if kind == "sft":
        cols.update({"completion": messages, "rationale_source": Value("string")})
    return Dataset.from_list(rows, features=Features(cols))


def build_sft_dataset(source: str | Path | Sequence[CreativePair], config: BuildConfig | None = None,
                      progress: bool = False, **overrides: Any) -> Any:
    """SFT rows (``images``, ``prompt``, ``completion``) from a pairs JSONL (validated first) or a list of pairs.

    Keyword overrides set :class:`BuildConfig` fields (``build_sft_dataset(path, rationale="template")``).
    """
    cfg = _config(config, overrides)
    if cfg.both_orders and cfg.rationale != "template":
        raise ValueError("both_orders for SFT needs rationale: template (a written rationale cannot be mirrored)")
    pairs = _pairs(source)
    templated = cfg.rationale == "template" or (cfg.rationale == "auto" and any(not p.rationale for p in pairs))
    ctx, rows = _Context(cfg, cfg.with_checks or templated), []
    for pair, swapped in _progress(_orders(pairs, cfg), progress, "SFT rows"):
        row, screens = _row_base(pair, ctx, swapped)
        rationale, source_kind = _rationale(pair, cfg, screens)
        text = completion_text(rationale, pair.label)
        row["completion"] = [{"role": "assistant", "content": [{"type": "text", "text": text}]}]
        row["rationale_source"] = source_kind
        rows.append(row)
    return _dataset(rows, "sft")


def build_grpo_dataset(source: str | Path | Sequence[CreativePair], config: BuildConfig | None = None,
                       progress: bool = False, **overrides: Any) -> Any:
    """GRPO rows (``prompt``, ``images``, ``label``, ``pair_id``, ``swapped``) from pairs; ties are dropped.

    >>> # build_grpo_dataset("pairs.jsonl", both_orders=True)  -> rows p1, p1~swapped, p2, p2~swapped, ...
    """
    cfg = _config(config, overrides)
    ctx = _Context(cfg, cfg.with_checks)
    rows = [_row_base(p, ctx, sw)[0] for p, sw in _progress(_orders(_pairs(source), cfg), progress, "GRPO rows")]
    return _dataset(rows, "grpo")


def _config(config: BuildConfig | None, overrides: dict[str, Any]) -> BuildConfig:
    base = config.__dict__ if config is not None else {}
    return BuildConfig(**{**base, **overrides})


def _progress(items: list[Any], on: bool, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, disable=not on)


def dataset_summary(ds: Any, kind: str, source: str = "", config: BuildConfig | None = None) -> dict[str, Any]:
    """Counts for the card: rows, distinct pairs, labels A/B, categories, rationale sources, swapped copies."""
    labels = Counter(ds["label"])
    decided = labels["A"] + labels["B"]
    out: dict[str, Any] = {
        "format": f"creative4u {kind.upper()}",
        "rows": len(ds), "pairs": len(set(ds["pair_id"])), "labels": {"A": labels["A"], "B": labels["B"]},
        "share_a": round(labels["A"] / decided, 4) if decided else None,
        "swapped_rows": sum(ds["swapped"]),
        "categories": dict(sorted(Counter(c or "(none)" for c in ds["category"]).items())),
        "source": source, "build": dict(config.__dict__) if config else {},
    }
    if kind == "sft":
        out["rationale_sources"] = dict(Counter(ds["rationale_source"]))
    return out


CARD_TEMPLATE = """---
license: other
task_categories:
- image-text-to-text
tags:
- creative4u
- pairwise-judge
- {kind}
pretty_name: creative4u {kind_upper} data ({name})
---

# creative4u {kind_upper} data: {name}

Pairwise comparisons of advertising creatives for the same product, in the format TRL's `{trainer}` expects.
Built by `creative4u data build-{kind}` from `{source}` with prompt template `{prompt_version}`.

## Summary

| | |
| --- | --- |
| rows | {rows} |
| distinct pairs | {pairs} |
| labels A / B | {label_a} / {label_b} (share of A: {share_a}) |
| swapped copies | {swapped_rows} |
| categories | {categories} |
{extra_rows}
## Columns

{columns}

## How it was built

```json
{build}
```

Images were loaded with `creative4u.images.load_image` and scaled to at most {max_pixels} pixels like the judge
backends do. Text read from an image enters the prompt only as quoted, escaped data (never as an instruction).

## Load

```python
from creative4u.data.sft_data import load_training_dataset
ds = load_training_dataset("{path}")
```

## Licence and provenance

The images keep the licences of their sources (see the pair set's manifest); labels come from {label_origin}.
"""

COLUMNS = {
    "sft": "- `images`: [Image A, Image B]\n"
           "- `prompt`: system + user messages, images as `{\"type\": \"image\"}` parts\n"
           "- `completion`: assistant message `<think>...</think><answer>A|B</answer>`\n"
           "- `id`, `pair_id`, `label`, `swapped`, `category`, `rationale_source`",
    "grpo": "- `prompt`: system + user messages, images as `{\"type\": \"image\"}` parts\n"
            "- `images`: [Image A, Image B]\n"
            "- `label`: `A` or `B` (read by the rewards)\n- `pair_id`, `swapped`: pair the two orders of a pair "
            "(order-consistency reward)\n- `id`, `category`",
}


def write_dataset_card(out_dir: str | Path, summary: dict[str, Any], kind: str,
                       label_origin: str = "the pair set") -> Path:
    """Write ``README.md`` (a Hugging Face dataset card) and ``summary.json`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    extra = ""
    if "rationale_sources" in summary:
        extra = f"| rationale sources | {summary['rationale_sources']} |\n"
    build = summary.get("build", {})
    card = CARD_TEMPLATE.format(
        kind=kind, kind_upper=kind.upper(), name=out.name, trainer="SFTTrainer" if kind == "sft" else "GRPOTrainer",
        source=summary.get("source") or "(in-memory pairs)", prompt_version=build.get("prompt_version", "?"),
        rows=summary["rows"], pairs=summary["pairs"], label_a=summary["labels"]["A"], label_b=summary["labels"]["B"],
        share_a=summary["share_a"], swapped_rows=summary["swapped_rows"], categories=summary["categories"],
        extra_rows=extra, columns=COLUMNS[kind], build=json.dumps(build, indent=2), max_pixels=build.get("max_pixels"),
        path=str(out), label_origin=label_origin,
    )
    (out / "README.md").write_text(card, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return out / "README.md"


def save_dataset(ds: Any, out_dir: str | Path, kind: str, source: str = "", config: BuildConfig | None = None,
                 fmt: str = "arrow") -> dict[str, Any]:
    """Save a built dataset (``arrow``: ``save_to_disk``; ``parquet``: ``data.parquet``) with its card.

    Returns the summary written to ``summary.json``.
    """
    out = Path(out_dir)
    if fmt == "arrow":
        ds.save_to_disk(str(out))
    elif fmt == "parquet":
        out.mkdir(parents=True, exist_ok=True)
        ds.to_parquet(str(out / "data.parquet"))
    else:
        raise ValueError(f"format must be arrow or parquet, got {fmt!r}")
    summary = dataset_summary(ds, kind, source, config)
    write_dataset_card(out, summary, kind)
    return summary


def load_training_dataset(path: str | Path) -> Any:
    """Load a dataset written by :func:`save_dataset` (Arrow folder, Parquet folder or ``.parquet`` file)."""
    from datasets import Dataset, load_from_disk

    p = Path(path)
    if (p / "state.json").is_file():
        return load_from_disk(str(p))
    files = [p] if p.suffix == ".parquet" else sorted(p.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no training dataset at {p} (expected a save_to_disk folder or .parquet files)")
    return Dataset.from_parquet([str(f) for f in files])


def build_and_save(pairs_path: str | Path, out_dir: str | Path, kind: str, config: BuildConfig | None = None,
                   fmt: str = "arrow", progress: bool = True) -> dict[str, Any]:
    """Validate ``pairs_path``, build the ``sft`` or ``grpo`` rows, save them with a card; return the summary."""
    builders = {"sft": build_sft_dataset, "grpo": build_grpo_dataset}
    if kind not in builders:
        raise ValueError(f"kind must be sft or grpo, got {kind!r}")
    cfg = config or BuildConfig()
    ds = builders[kind](pairs_path, cfg, progress=progress)
    summary = save_dataset(ds, out_dir, kind, str(pairs_path), cfg, fmt)
    summary["pair_set"] = summarize_pairs(read_pairs(pairs_path))
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
