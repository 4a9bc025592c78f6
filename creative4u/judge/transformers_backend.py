"""The ``transformers`` judge: a local Qwen-VL model (folder or hub id) with batched greedy generation.

>>> import tempfile
>>> from creative4u.testing.tiny_vlm import build_tiny_vlm
>>> judge = TransformersJudge(model=str(build_tiny_vlm(tempfile.mkdtemp())), max_new_tokens=8, batch_size=4)
>>> judge.batch_size, judge.device
(4, 'cpu')

The model loads on first use through :func:`creative4u.models.load_vlm` (``AutoModelForImageTextToText`` with the
image-only processor workaround). Prompts are the TRL conversational messages of :mod:`creative4u.prompts`
rendered with the model's own chat template, images scaled to ``max_pixels`` exactly as the ``openai`` backend
does before encoding them, and batches are left-padded. A logits processor records the log-probabilities of the
tokens that can carry the answer letter (``A``, ``>A``, `` B``...: byte-level tokenizers merge the letter with the
``>`` of ``<answer>``) at every step, so the answer token's probability against its rival (``>A`` against ``>B``)
gives the confidence without keeping whole-vocabulary logits around.

Forced choice (an off-format answer): one forward pass over the prompt followed by
``<think>{the model's own reasoning}</think><answer>`` (``continue_final_message``, the same continuation the
``openai`` backend asks vLLM for) and a comparison of the next-token log-probabilities of ``A`` and ``B``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
from collections.abc import Sequence
from typing import Any

from creative4u.judge.base import JudgeUnavailableError
from creative4u.judge.options import TransformersOptions
from creative4u.judge.vlm import (
    DEFAULT_MAX_NEW_TOKENS,
    ForcedChoice,
    Generation,
    Request,
    TokenInfo,
    VLMJudge,
    reject_unknown_options,
    timed,
)
from creative4u.prompts import PROMPT_VERSION

LETTERS = ("A", "B")
# The option names the constructor takes: declared once, in the options dataclass the registry serves.
_OPTIONS = tuple(f.name for f in dataclasses.fields(TransformersOptions))


# A token that could carry the answer: one letter A or B and nothing else but punctuation/space ("A", ">B", " A").
_LETTER_TOKEN = re.compile(r"[^\w]*[AB][^\w]*")


def letter_tokens(tokenizer: Any) -> tuple[list[int], list[str]]:
    """Ids and texts of every vocabulary token that could carry the answer letter (see ``_LETTER_TOKEN``)."""
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))], skip_special_tokens=True)
    keep = [i for i, t in enumerate(texts) if _LETTER_TOKEN.fullmatch(t)]
    return keep, [texts[i] for i in keep]


def _letter_recorder(letter_ids: list[int]) -> Any:
    """A logits processor that keeps the log-probabilities of the letter tokens at every step, changing nothing."""
    import torch
    from transformers import LogitsProcessor

    class LetterRecorder(LogitsProcessor):
        def __init__(self) -> None:
            self.steps: list[torch.Tensor] = []

        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            self.steps.append(torch.log_softmax(scores.float(), dim=-1)[:, letter_ids].cpu())
            return scores

    return LetterRecorder()


class TransformersJudge(VLMJudge):
    """Judge pairs with a local vision-language model through ``transformers``."""

    name = "transformers"

    def __init__(
        self,
        model: str | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        max_pixels: int | None = None,
        batch_size: int = 8,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        forced_choice: bool = True,
        cache: bool = True,
        cache_dir: str | None = None,
        prompt_version: str | None = None,
        **extra: Any,
    ) -> None:
        reject_unknown_options(self.name, extra, _OPTIONS)
        if int(batch_size) < 1:
            raise ValueError(f"transformers judge: batch_size must be >= 1, got {batch_size}")
        super().__init__(
            model or "", max_pixels, max_new_tokens, forced_choice, cache, cache_dir, prompt_version or PROMPT_VERSION
        )
        self.device = device
        self.dtype = dtype
        self.batch_size = int(batch_size)
        self._vlm: tuple[Any, Any] | None = None
        self._lock = threading.Lock()  # one generate at a time: the model is shared by the gateway's threads

    @property
    def model_id(self) -> str:
        return f"{self.name}:{self.model}:{self.dtype}"

    def _load(self) -> tuple[Any, Any]:
        if self._vlm is None:
            try:
                from creative4u.models import load_vlm

                device = self.device
                if device == "auto":
                    import torch

                    device = "cuda" if torch.cuda.is_available() else "cpu"
                model, processor = load_vlm(self.model, device=device, dtype=self.dtype)
            except (OSError, ValueError, ImportError) as err:
                raise JudgeUnavailableError(f"transformers judge: cannot load model {self.model!r}: {err}") from err
            processor.tokenizer.padding_side = "left"  # generation continues each row at its right end
            self._vlm = (model, processor)
            self._letter_ids = self._token_ids(processor.tokenizer)
            self._answer_ids, self._answer_texts = letter_tokens(processor.tokenizer)
            self._answer_col = {tid: col for col, tid in enumerate(self._answer_ids)}
        return self._vlm

    @staticmethod
    def _token_ids(tokenizer: Any) -> list[int]:
        ids = [tokenizer.encode(letter, add_special_tokens=False) for letter in LETTERS]
        if any(len(i) != 1 for i in ids):
            raise JudgeUnavailableError(f"transformers judge: the letters A and B are not single tokens ({ids})")
        return [i[0] for i in ids]

    def _inputs(self, texts: list[str], requests: Sequence[Request]) -> Any:
        model, processor = self._load()
        images = [img for req in requests for img in self.images(req.pair)]
        return processor(text=texts, images=images, padding=True, return_tensors="pt").to(model.device)

    def _chat(self, req: Request, prefix: str | None = None) -> str:
        _, processor = self._load()
        messages = req.prompt.trl_prompt()
        if prefix is None:
            return processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        messages.append({"role": "assistant", "content": prefix})
        return processor.apply_chat_template(messages, tokenize=False, continue_final_message=True)

    def _eos_ids(self, model: Any) -> set[int]:
        eos = model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        pad = model.generation_config.pad_token_id
        return {int(i) for i in eos if i is not None} | ({int(pad)} if pad is not None else set())

    def _generate_batch(self, batch: Sequence[Request]) -> list[Generation]:
        import torch
        from transformers import LogitsProcessorList

        model, processor = self._load()
        clock = timed()
        inputs = self._inputs([self._chat(r) for r in batch], batch)
        recorder = _letter_recorder(self._answer_ids)
        with self._lock, torch.inference_mode():
            out = model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                logits_processor=LogitsProcessorList([recorder]),
                return_dict_in_generate=True,
            )
        new = out.sequences[:, inputs["input_ids"].shape[1] :].tolist()
        steps = torch.stack(recorder.steps, dim=1) if recorder.steps else None  # [batch, steps, letter tokens]
        prompt_tokens = inputs["attention_mask"].sum(dim=1).tolist()
        elapsed, eos = clock(), self._eos_ids(model)
        return [self._row(ids, steps, b, eos, prompt_tokens[b], elapsed) for b, ids in enumerate(new)]

    def _row(self, ids: list[int], steps: Any, b: int, eos: set[int], prompt_tokens: int, ms: float) -> Generation:
        tokenizer = self._load()[1].tokenizer
        stop = next((k for k, t in enumerate(ids) if t in eos), None)
        kept = ids if stop is None else ids[:stop]
        tokens = []
        for k, tid in enumerate(kept):
            letters: dict[str, float] = {}
            if steps is not None and tid in self._answer_col:  # only where this token could be the answer
                for text, value in zip(self._answer_texts, steps[b, k].tolist(), strict=True):
                    letters[text] = max(value, letters.get(text, -math.inf))
            tokens.append(TokenInfo(tokenizer.decode([tid], skip_special_tokens=True), None, letters))
        usage = {"prompt_tokens": int(prompt_tokens), "completion_tokens": len(kept)}
        usage["finish_reason"] = "length" if stop is None else "stop"
        return Generation(tokenizer.decode(kept, skip_special_tokens=True), tokens, ms, usage)

    def _force_batch(self, batch: Sequence[Request], prefixes: Sequence[str]) -> list[ForcedChoice]:
        import torch

        model, _ = self._load()
        clock = timed()
        inputs = self._inputs([self._chat(r, p) for r, p in zip(batch, prefixes, strict=True)], batch)
        with self._lock, torch.inference_mode():
            logits = model(**inputs, logits_to_keep=1).logits[:, -1, :]  # left padding: the last column is real
        logp = torch.log_softmax(logits.float(), dim=-1)[:, self._letter_ids].cpu()
        elapsed, out = clock(), []
        for row in logp.tolist():
            letters = dict(zip(LETTERS, row, strict=True))
            letter = "A" if letters["A"] >= letters["B"] else "B"
            out.append(ForcedChoice(letter, letters, None, letter, "", elapsed))
        return out

    # --- VLMJudge hooks ------------------------------------------------------------------------------------
    def _generate(self, requests: Sequence[Request]) -> list[Generation]:
        out: list[Generation] = []
        for start in range(0, len(requests), self.batch_size):
            out += self._generate_batch(requests[start : start + self.batch_size])
        return out

    def _force(self, requests: Sequence[Request], prefixes: Sequence[str]) -> list[ForcedChoice]:
        out: list[ForcedChoice] = []
        for start in range(0, len(requests), self.batch_size):
            end = start + self.batch_size
            out += self._force_batch(requests[start:end], prefixes[start:end])
        return out

    def close(self) -> None:
        self._vlm = None
