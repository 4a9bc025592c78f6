"""What the VLM backends share: prompt rendering, strict parsing, the forced-choice fallback, confidence, caching.

>>> tok = [TokenInfo("<answer", -0.1), TokenInfo(">A", -0.2, {">A": -0.2, ">B": -1.8})]
>>> p_a, conf, source = answer_probability(tok, "<answer>A", 8, "A")
>>> round(p_a, 3), round(conf, 3), source
(0.832, 0.832, 'answer_token')

A backend (``openai``, ``transformers``) only implements :meth:`VLMJudge._generate` (free generation with
per-token log-probabilities) and :meth:`VLMJudge._force` (the log-probabilities of ``A`` and ``B`` right after
``<think>reasoning</think><answer>``). Everything else is here, so the two backends give the same verdict on the
same model: the same template, the same parser, the same fallback prompt and the same confidence rule.

Confidence: the probability of the chosen letter renormalised over {A, B} at the answer position. When the
backend sees only the top-k alternatives and the other letter is not among them, its probability is at most the
smallest listed one, so the confidence reported is the lower bound (``answer_token_bound``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from creative4u.answer_format import ParsedAnswer, forced_prefix, parse_answer
from creative4u.images import prepare_image
from creative4u.judge.base import Judge, PairInput, Verdict
from creative4u.judge.cache import VerdictCache, cache_key
from creative4u.prompts import PROMPT_VERSION, RenderedPrompt, render_pair_prompt

# Qwen2.5-VL's recommended upper bound (1280 tokens of 28x28 pixels): larger images cost time, add nothing.
DEFAULT_MAX_PIXELS = 1280 * 28 * 28
DEFAULT_MAX_NEW_TOKENS = 512


@dataclass
class TokenInfo:
    """One generated token: its text, its log-probability and, by token text, those of rival tokens when known.

    ``letters`` holds the log-probabilities the backend saw at this step for tokens that could carry the answer
    (``A``, ``>B``, ...; a top-k list for OpenAI servers). ``floor`` is the smallest log-probability listed
    (top-k backends): a token not listed is at most that likely.
    """

    text: str
    logprob: float | None = None
    letters: dict[str, float] = field(default_factory=dict)
    floor: float | None = None


@dataclass
class Generation:
    """A backend's free generation for one prompt."""

    text: str
    tokens: list[TokenInfo] | None = None
    latency_ms: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass
class ForcedChoice:
    """A backend's forced choice between ``A`` and ``B`` after the model's own reasoning."""

    letter: str | None
    letters: dict[str, float] = field(default_factory=dict)  # log-probabilities of A and B where known
    floor: float | None = None
    raw: str = ""
    error: str = ""
    latency_ms: float = 0.0


@dataclass
class Request:
    """One ordered pair ready for a backend: the pair, its rendered prompt and the cache key."""

    pair: PairInput
    prompt: RenderedPrompt
    key: str


def _letter_probability(
    letters: dict[str, float], floor: float | None, chosen: str, other: str
) -> tuple[float, str] | None:
    """P(chosen) renormalised over {chosen, other} (token texts), with its source; None when P(chosen) is unknown."""
    if chosen not in letters:
        return None
    p_chosen = math.exp(letters[chosen])
    if other in letters:
        p_other, source = math.exp(letters[other]), "answer_token"
    elif floor is not None:
        p_other, source = min(math.exp(floor), max(0.0, 1.0 - p_chosen)), "answer_token_bound"
    else:
        return None
    total = p_chosen + p_other
    return (p_chosen / total if total > 0 else 0.5), source


def swap_letter(token: str, index: int) -> str:
    """The token text with the answer letter at ``index`` replaced by the other letter.

    >>> swap_letter(">A", 1), swap_letter("B", 0)
    ('>B', 'A')

    Byte-level tokenizers often merge the letter with the ``>`` of ``<answer>`` (Qwen's pre-tokenizer keeps a
    punctuation mark with the word that follows it), so the rival of ``>A`` is ``>B``, not ``B``.
    """
    return token[:index] + ("B" if token[index] == "A" else "A") + token[index + 1 :]


def answer_probability(
    tokens: Sequence[TokenInfo] | None, text: str, offset: int, chosen: str
) -> tuple[float | None, float, str]:
    """``(p_a, confidence, source)`` from the token that produced the answer letter at ``text[offset]``.

    The rival is the same token with the other letter (``>A`` against ``>B``). Without log-probabilities, or when
    the token texts do not spell the parsed text, ``p_a`` is None and the confidence is 1.0 with source ``none``:
    the model committed to the letter, nothing more is known.
    """
    if not tokens or offset < 0:
        return None, 1.0, "none"
    joined = "".join(t.text for t in tokens)
    pos = 0
    for tok in tokens:
        end = pos + len(tok.text)
        if pos <= offset < end:
            # The token texts must spell the parsed text up to the letter, else offsets mean nothing.
            if text[:end] != joined[:end] or tok.text[offset - pos] != chosen:
                return None, 1.0, "none"
            letters = dict(tok.letters)
            if tok.logprob is not None:
                letters.setdefault(tok.text, tok.logprob)
            found = _letter_probability(letters, tok.floor, tok.text, swap_letter(tok.text, offset - pos))
            if found is None:
                return None, 1.0, "none"
            conf, source = found
            return (conf if chosen == "A" else 1.0 - conf), conf, source
        pos = end
    return None, 1.0, "none"


def reject_unknown_options(backend: str, extra: dict[str, Any], valid: Sequence[str]) -> None:
    """A clear error for an option a backend does not take (e.g. ``--device`` with the ``openai`` backend)."""
    unknown = sorted(k for k, v in extra.items() if v is not None)
    if unknown:
        raise ValueError(f"{backend} judge: unknown option(s) {', '.join(unknown)}; valid: {', '.join(valid)}")


class VLMJudge(Judge):
    """Base class of VLM backends; subclasses implement ``_generate`` and ``_force`` and set ``model_id``."""

    name = "vlm"

    def __init__(
        self,
        model: str,
        max_pixels: int | None = None,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        forced_choice: bool = True,
        cache: bool | VerdictCache = True,
        cache_dir: str | None = None,
        prompt_version: str = PROMPT_VERSION,
    ) -> None:
        if not model:
            raise ValueError(f"{self.name} judge: a model is required (--model NAME or PATH)")
        self.model = str(model)
        self.max_pixels = int(max_pixels or DEFAULT_MAX_PIXELS)
        if self.max_pixels < 28 * 28:
            raise ValueError(f"{self.name} judge: max_pixels must be at least {28 * 28}, got {self.max_pixels}")
        self.max_new_tokens = int(max_new_tokens)
        if self.max_new_tokens < 1:
            raise ValueError(f"{self.name} judge: max_new_tokens must be >= 1, got {max_new_tokens}")
        self.forced_choice = forced_choice
        self.prompt_version = prompt_version
        if isinstance(cache, VerdictCache):
            self.cache: VerdictCache | None = cache
        else:
            self.cache = VerdictCache(cache_dir) if cache or cache_dir else None
        self.calls = 0  # ordered pairs actually sent to the model (cache hits excluded)

    @property
    def model_name(self) -> str:
        return self.model

    @property
    def model_id(self) -> str:
        """The model's identity in cache keys (backend, location and name)."""
        return f"{self.name}:{self.model}"

    def settings(self) -> dict[str, Any]:
        """Everything besides prompt and model that changes an answer (part of the cache key)."""
        return {
            "max_pixels": self.max_pixels,
            "max_new_tokens": self.max_new_tokens,
            "forced": bool(self.forced_choice),
        }

    def images(self, pair: PairInput) -> tuple[Image.Image, Image.Image]:
        return prepare_image(pair.image_a.image, self.max_pixels), prepare_image(pair.image_b.image, self.max_pixels)

    def _request(self, pair: PairInput) -> Request:
        prompt = render_pair_prompt(pair, self.prompt_version)
        settings = json.dumps(self.settings(), sort_keys=True)
        prompt_hash = hashlib.sha256(f"{prompt.sha256}|{settings}".encode()).hexdigest()
        return Request(pair, prompt, cache_key(pair.image_a.sha256, pair.image_b.sha256, prompt_hash, self.model_id))

    # --- backend hooks -------------------------------------------------------------------------------------
    def _generate(self, requests: Sequence[Request]) -> list[Generation]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _force(self, requests: Sequence[Request], prefixes: Sequence[str]) -> list[ForcedChoice]:
        return [ForcedChoice(None, error=f"{self.name} backend has no forced choice") for _ in requests]

    # --- shared flow ---------------------------------------------------------------------------------------
    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        """Judge ordered pairs: cache, one batched generation, one batched forced choice for the failures."""
        requests = [self._request(p) for p in pairs]
        verdicts: dict[str, Verdict] = {}
        todo: list[Request] = []
        for req in requests:
            if req.key in verdicts or any(t.key == req.key for t in todo):
                continue  # the same question twice in one batch is asked once
            hit = self.cache.get(req.key) if self.cache is not None else None
            if hit is not None:
                verdicts[req.key] = hit
            else:
                todo.append(req)
        for req, verdict in zip(todo, self._judge_uncached(todo), strict=True):
            verdicts[req.key] = verdict
            if self.cache is not None:
                self.cache.put(req.key, verdict)
        return [verdicts[req.key] for req in requests]

    def _judge_uncached(self, todo: list[Request]) -> list[Verdict]:
        if not todo:
            return []
        generations = self._generate(todo)
        self.calls += len(todo)
        parsed = [parse_answer(g.text) for g in generations]
        failed = [i for i, p in enumerate(parsed) if not p.ok]
        forced: dict[int, ForcedChoice] = {}
        if failed and self.forced_choice:
            prefixes = [forced_prefix(parsed[i].reasoning) for i in failed]
            forced = dict(zip(failed, self._force([todo[i] for i in failed], prefixes), strict=True))
        return [self._verdict(todo[i], generations[i], parsed[i], forced.get(i)) for i in range(len(todo))]

    def _details(self, req: Request, gen: Generation, parsed: ParsedAnswer) -> dict[str, Any]:
        return {
            "prompt_version": req.prompt.version,
            "prompt_sha256": req.prompt.sha256,
            "parse_reason": parsed.reason,
            "usage": gen.usage,
            "cached": False,
            **self.settings(),
        }

    def _verdict(self, req: Request, gen: Generation, parsed: ParsedAnswer, forced: ForcedChoice | None) -> Verdict:
        details = self._details(req, gen, parsed)
        common = {"backend": self.name, "model": self.model, "raw": gen.text, "details": details}
        if parsed.ok:
            letter = parsed.answer or ""
            p_a, conf, source = answer_probability(gen.tokens, gen.text, parsed.answer_offset, letter)
            details["confidence_source"] = source
            return Verdict(letter, conf, p_a, parsed.reasoning, parse_status="ok", latency_ms=gen.latency_ms, **common)
        latency = gen.latency_ms + (forced.latency_ms if forced else 0.0)
        if forced is not None:
            details["forced"] = {"letter": forced.letter, "letters": forced.letters, "raw": forced.raw}
            if forced.error:
                details["forced"]["error"] = forced.error
        if forced is None or forced.letter not in ("A", "B"):
            why = f"Unparseable answer ({parsed.reason}); no forced choice"
            why += f": {forced.error}" if forced and forced.error else "."
            details["confidence_source"] = "none"
            return Verdict("tie", 0.5, None, why, parse_status="failed", latency_ms=latency, **common)
        other = "B" if forced.letter == "A" else "A"
        found = _letter_probability(forced.letters, forced.floor, forced.letter, other)
        conf, source = found if found else (1.0, "none")
        details["confidence_source"] = f"forced_{source}" if found else "none"
        p_a = (conf if forced.letter == "A" else 1.0 - conf) if found else None
        rationale = parsed.reasoning or "(the model gave no readable reasoning)"
        return Verdict(forced.letter, conf, p_a, rationale, parse_status="forced", latency_ms=latency, **common)


def timed() -> Any:
    """A tiny stopwatch: ``t = timed(); ...; t()`` gives elapsed milliseconds."""
    start = time.perf_counter()
    return lambda: (time.perf_counter() - start) * 1000
