"""``creative4u disgust``: tools around the disgust classifier (active learning, data validation, ONNX export).

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_parser(parser.add_subparsers())
>>> args = parser.parse_args(["disgust", "select-for-labelling", "pool/", "--budget", "50"])
>>> args.budget, args.low, args.high, args.rank
(50, 0.2, 0.8, 'uncertainty')

Subcommands:

* ``select-for-labelling POOL --budget K``: the unlabelled images whose disgust score lies between ``--low`` and
  ``--high``, ranked by closeness to the calibrated threshold (or ``--rank loss``: highest predicted loss), for
  annotators; ``--out FILE.csv|.jsonl`` writes the list.
* ``check-data DIR``: validate a data folder against the layout (``data/disgust/README.md``) and count images.
* ``export MODEL_DIR``: write ``model.onnx`` and verify it against the torch model.
* ``train --config FILE [--set key=value ...]``: the same as ``creative4u train disgust`` (``--help-config``).

The model folder comes from ``--model`` or ``$CREATIVE4U_DISGUST_MODEL``. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("disgust", help="disgust classifier tools: active learning, data checks, ONNX export",
                            description="Tools around the disgust classifier.")
    cmds = parser.add_subparsers(dest="disgust_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)

    sel = cmds.add_parser("select-for-labelling", help="unlabelled images the model is unsure about, for annotators")
    sel.add_argument("pool", help="folder of unlabelled images (searched recursively)")
    sel.add_argument("--budget", type=int, required=True, help="how many images to select")
    _model_args(sel)
    sel.add_argument("--low", type=float, default=0.2, help="lower bound of the unsure score band (default 0.2)")
    sel.add_argument("--high", type=float, default=0.8, help="upper bound of the unsure score band (default 0.8)")
    sel.add_argument("--rank", choices=["uncertainty", "loss"], default="uncertainty",
                     help="uncertainty: closest to the threshold first; loss: highest predicted loss first")
    sel.add_argument("--out", help="write the selection to FILE (.csv or .jsonl)")
    sel.add_argument("--json", action="store_true", help="print the full result as JSON")
    sel.set_defaults(func=run_select)

    data = cmds.add_parser("check-data", help="validate a disgust data folder and count its images")
    data.add_argument("data_dir", help="folder with labelled/<class>/, unlabelled/ (val/, test/ optional)")
    data.add_argument("--classes", default="", help="comma-separated classes (default: the labelled/ folders)")
    data.add_argument("--negative-class", default="none", help="the class meaning 'not disgusting' (default none)")
    data.add_argument("--decode", action="store_true", help="also decode every image (finds broken files)")
    data.set_defaults(func=run_check_data)

    exp = cmds.add_parser("export", help="export model.onnx and verify it against torch")
    exp.add_argument("model_dir", help="a folder written by `creative4u train disgust`")
    exp.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    exp.add_argument("--tolerance", type=float, default=1e-4, help="largest accepted |onnx - torch| probability")
    exp.set_defaults(func=run_export)

    from creative4u.config import add_config_arguments
    from creative4u.train.disgust.config import DisgustTrainConfig  # light: the settings dataclass only

    train = cmds.add_parser("train", help="train the classifier (same as `creative4u train disgust`)")
    train.add_argument("--config", help="recipe YAML (recipes/disgust/config_*.yaml)")
    add_config_arguments(train, DisgustTrainConfig, config_flag=False)
    train.set_defaults(func=run_train)


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="model folder (default: $CREATIVE4U_DISGUST_MODEL)")
    p.add_argument("--backend", choices=["auto", "onnx", "torch"], default="auto", help="inference backend")
    p.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")


def _model_dir(args: argparse.Namespace) -> str:
    model = args.model or os.environ.get("CREATIVE4U_DISGUST_MODEL", "")
    if not model:
        raise ValueError("no model folder: pass --model DIR or set CREATIVE4U_DISGUST_MODEL")
    return model


def run_select(args: argparse.Namespace) -> int:
    from creative4u.train.disgust.active import select_for_labelling, write_selection

    result = select_for_labelling(args.pool, _model_dir(args), args.budget, args.low, args.high, args.rank,
                                  args.backend, args.threads)
    if args.out:
        result["written"] = str(write_selection(result, args.out))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['scored']} images scored, {result['in_band']} with score in [{args.low}, {args.high}], "
          f"{len(result['selected'])} selected (ranking: {args.rank}; threshold {result['threshold']:.3f})")
    for i, c in enumerate(result["selected"], 1):
        print(f"{i:4d}  score {c['score']:.3f}  loss {c['predicted_loss']:.3f}  {c['category']:<8}  {c['path']}")
    for s in result["skipped"]:
        print(f"skipped (unreadable): {s['path']}: {s['error']}")
    if args.out:
        print(f"written: {result['written']}")
    return 0


def run_check_data(args: argparse.Namespace) -> int:
    from creative4u.train.disgust.data import load_pixels, scan_dataset

    classes = [c.strip() for c in args.classes.split(",") if c.strip()] or None
    index = scan_dataset(args.data_dir, classes, args.negative_class)
    if args.decode:
        for split in ("train", "val", "test"):
            load_pixels([p for p, _ in getattr(index, split)], 32, progress=True, desc=split)
        load_pixels(index.unlabelled, 32, progress=True, desc="unlabelled")
    print(json.dumps({"data_dir": str(index.root), "classes": index.classes, "negative_class": index.negative_class,
                      "counts": index.counts(), "decoded": bool(args.decode)}, indent=2))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from creative4u.train.disgust.export import export_model_dir

    print(json.dumps(export_model_dir(args.model_dir, None, args.opset, args.tolerance), indent=2))
    return 0


def run_train(args: argparse.Namespace) -> int:
    from creative4u.train.disgust.train import run

    return run(args)
