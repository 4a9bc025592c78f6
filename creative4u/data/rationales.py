"""Chain-of-thought rationales for CreativePairs: from a teacher VLM given the label, or from the check reports.

>>> from creative4u.data.pairs import CreativePair
>>> pair = CreativePair("p1", "a.jpg", "b.jpg", "B")
>>> a = {"exposure": {"score": 0.97, "summary": "underexposed: mean luma 31/255"}}
>>> b = {"exposure": {"score": 0.02, "summary": "exposure fine: mean luma 118/255"}}
>>> print(template_rationale(pair, a, b, items=(7, 9)))
7. Product subject: A<B, Image A is underexposed (exposure 0.97 vs 0.02).
9. Likely click: A<B, users are more likely to click Image B.

Two modes write the ``rationale`` field (the text inside ``<think>``) that CoT-SFT trains on:

* **template** (:func:`template_rationale`): a protocol-shaped rationale built from the check reports of both
  images and the label, for bootstrapping without a teacher. Items the checks cannot judge (queries, title, models
  and props) are answered ``A=B`` and say so; the last item always names the labelled winner.
* **teacher** (:func:`teacher_rationales`): any OpenAI-compatible VLM is shown the judge's own prompt plus the
  correct answer and asked for the reasoning that leads to it. A reply that is off-format or whose answer disagrees
  with the label is rejected (retried up to ``attempts`` times). Results are appended to the output JSONL one pair
  at a time, so an interrupted run resumes where it stopped.

Text that a check read from the pixels (OCR) never enters a template rationale: it is untrusted data.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative4u.data.pairs import CreativePair, iter_pairs, read_pairs

log = logging.getLogger(__name__)

# The evaluation protocol of the judge prompt (creative4u/prompts/creative4u_v1.jinja), in its order and wording.
PROTOCOL: dict[int, str] = {
    1: "Same or too similar",
    2: "Match to the user queries",
    3: "Match to the product title",
    4: "Text in the image",
    5: "Models and props",
    6: "Layout and composition",
    7: "Product subject",
    8: "Background",
    9: "Likely click",
}
# Which checks speak to which protocol item (problem scores: higher is worse). Items absent here have no evidence.
ITEM_CHECKS: dict[int, tuple[str, ...]] = {
    4: ("text",),
    6: ("border", "resolution"),
    7: ("sharpness", "exposure", "contrast", "noise"),
    8: ("colourfulness",),
}
# Checks whose summary may quote text read from the image: only their scores are used, never their words.
UNTRUSTED_SUMMARY_CHECKS = frozenset({"text", "duplicate", "provenance"})
NO_EVIDENCE = {
    2: "A=B, the checks cannot judge the match to the queries from the pixels",
    3: "A=B, the checks cannot judge the match to the title from the pixels",
    5: "A=B, no check looks at models or props",
}


def _reports(screen: Any) -> dict[str, dict[str, Any]]:
    """Check reports as plain dicts from an ``ImageScreen``, its ``to_dict()``, or a ``{check: report}`` mapping."""
    if screen is None:
        return {}
    raw = screen.get("checks", screen) if isinstance(screen, Mapping) else getattr(screen, "reports", {})
    out = {}
    for name, rep in raw.items():
        get = rep.get if isinstance(rep, Mapping) else (lambda k, d=None, r=rep: getattr(r, k, d))
        if get("status", "ok") in ("ok", "flagged"):
            out[str(name)] = {"score": float(get("score", 0.0) or 0.0), "summary": str(get("summary", "") or "")}
    return out


def _state(check: str, report: dict[str, Any]) -> str:
    """A few trusted words for a report: the summary's leading state ("underexposed") or the check name."""
    state = report["summary"].split(":", 1)[0].strip()
    if check in UNTRUSTED_SUMMARY_CHECKS or report["score"] < 0.5 or not state or len(state) > 40:
        return f"has the weaker {check}"  # below the flag level the state word reads "fine": say less
    return f"is {state}"


def _compare(item: int, ra: dict[str, Any], rb: dict[str, Any], margin: float, scores: bool = True) -> str:
    """One evidence item: the verdict from summed problem scores and the check that separates the images most."""
    names = [c for c in ITEM_CHECKS[item] if c in ra and c in rb]
    if not names:
        return "A=B, the checks did not measure this"
    gap = sum(rb[c]["score"] for c in names) - sum(ra[c]["score"] for c in names)
    if abs(gap) < margin:
        return "A=B, the checks find no clear difference"
    worse, reps, other = ("B", rb, ra) if gap > 0 else ("A", ra, rb)
    check = max(names, key=lambda c: abs(reps[c]["score"] - other[c]["score"]))
    verdict = "A>B" if worse == "B" else "A<B"
    numbers = f" ({check} {ra[check]['score']:.2f} vs {rb[check]['score']:.2f})" if scores else ""
    return f"{verdict}, Image {worse} {_state(check, reps[check])}{numbers}"


def _click_line(label: str) -> str:
    if label == "tie":
        return "A=B, users are equally likely to click either image"
    verdict = "A>B" if label == "A" else "A<B"
    return f"{verdict}, users are more likely to click Image {label}"


def template_rationale(
    pair: CreativePair,
    screen_a: Any = None,
    screen_b: Any = None,
    items: Sequence[int] | None = None,
    margin: float = 0.15,
    scores: bool = True,
) -> str:
    """A protocol-shaped rationale from the check reports of both images and the pair's label.

    >>> print(template_rationale(CreativePair("p", "a.jpg", "b.jpg", "A"), items=(1, 5, 9)))
    1. Same or too similar: no, the two images differ and can be compared.
    5. Models and props: A=B, no check looks at models or props.
    9. Likely click: A>B, users are more likely to click Image A.

    ``items`` picks protocol items (default: all nine; item 9 always closes the rationale). ``margin`` is the
    smallest difference of summed check scores that counts as a difference; ``scores=False`` leaves the numbers
    out (shorter targets for small models).
    """
    chosen = sorted(set(items or PROTOCOL) | {9})
    unknown = [i for i in chosen if i not in PROTOCOL]
    if unknown:
        raise ValueError(f"unknown protocol item(s) {unknown}; valid: 1..9")
    ra, rb = _reports(screen_a), _reports(screen_b)
    lines = []
    for item in chosen:
        if item == 1:
            text = "no, the two images differ and can be compared"
        elif item == 9:
            text = _click_line(pair.label)
        elif item in ITEM_CHECKS:
            text = _compare(item, ra, rb, margin, scores)
        else:
            text = NO_EVIDENCE[item]
        lines.append(f"{item}. {PROTOCOL[item]}: {text}.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- teacher mode
TEACHER_INSTRUCTION = (
    "Training-data request. The correct answer for this pair, established from real user clicks, is Image {label}. "
    "Write the reasoning a careful judge would give for it: follow the evaluation protocol item by item inside "
    "<think></think>, ground every item in what you see in the two images and in the quoted check data, do not "
    "mention that the answer was given to you, and end with <answer>{label}</answer>."
)


@dataclass
class TeacherConfig:
    """How to reach the teacher VLM (any OpenAI-compatible server) and how to ask it."""

    url: str = field(metadata={"help": "base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1"})
    model: str = field(metadata={"help": "model name the server knows (e.g. Qwen/Qwen2.5-VL-72B-Instruct)"})
    api_key: str = field(default="", metadata={"help": "API key (default: $OPENAI_API_KEY, or 'EMPTY')"})
    max_tokens: int = field(default=1024, metadata={"help": "maximum tokens of one rationale"})
    temperature: float = field(default=0.3, metadata={"help": "sampling temperature (a retry draws a new sample)"})
    attempts: int = field(default=2, metadata={"help": "tries per pair before it is rejected"})
    timeout: float = field(default=120.0, metadata={"help": "seconds per request"})
    concurrency: int = field(default=4, metadata={"help": "requests in flight at once"})
    max_pixels: int = field(default=1280 * 28 * 28, metadata={"help": "images are scaled to at most this many pixels"})
    with_checks: bool = field(default=True, metadata={"help": "run the check suite and quote its reports"})
    profile: str = field(default="default", metadata={"help": "check profile for the quoted reports"})

    def __post_init__(self) -> None:
        if not self.url or not self.model:
            raise ValueError("teacher mode needs --teacher-url and --teacher-model")
        if self.attempts < 1 or self.concurrency < 1:
            raise ValueError("attempts and concurrency must be >= 1")


def _done_ids(*paths: Path) -> set[str]:
    """Ids already written to the output or the reject file (a torn last line is ignored)."""
    done: set[str] = set()
    for path in paths:
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    done.add(str(json.loads(line)["id"]))
                except (ValueError, KeyError, TypeError):
                    continue
    return done


def _repair_tail(path: Path) -> None:
    """Drop a half-written last line left by a killed run, so appends start on a clean line."""
    if path.is_file():
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            path.write_bytes(data[: data.rfind(b"\n") + 1])


class _Teacher:
    """One OpenAI client, the prompt for a pair, and the accept/reject rule."""

    def __init__(self, cfg: TeacherConfig) -> None:
        from creative4u.openai_client import make_client

        self.cfg = cfg
        self.client = make_client(cfg.url, cfg.api_key, cfg.timeout, max_retries=2, asynchronous=False)
        self.suite = None
        if cfg.with_checks:
            from creative4u.checks.suite import CheckSuite

            self.suite = CheckSuite(cfg.profile)

    def messages(self, pair: CreativePair) -> list[dict[str, Any]]:
        from creative4u.images import image_data_url, load_image, prepare_image
        from creative4u.prompts import render_prompt

        imgs = [load_image(pair.image_a), load_image(pair.image_b)]
        screens = [self.suite.screen(i) for i in imgs] if self.suite else [None, None]
        prompt = render_prompt(pair.title, pair.queries, screens[0], screens[1])
        urls = [image_data_url(prepare_image(i.image, self.cfg.max_pixels)) for i in imgs]
        msgs = prompt.openai_messages(*urls)
        msgs[1]["content"].append({"type": "text", "text": "\n\n" + TEACHER_INSTRUCTION.format(label=pair.label)})
        return msgs

    def ask(self, pair: CreativePair) -> tuple[str | None, str, str]:
        """``(rationale or None, reason, raw reply)`` after up to ``attempts`` tries."""
        from creative4u.answer_format import parse_answer

        msgs, reason, raw = self.messages(pair), "", ""
        for _ in range(self.cfg.attempts):
            reply = self.client.chat.completions.create(
                model=self.cfg.model, messages=msgs, max_tokens=self.cfg.max_tokens,
                temperature=self.cfg.temperature,
            )
            raw = reply.choices[0].message.content or ""
            parsed = parse_answer(raw)
            if not parsed.ok:
                reason = f"off-format ({parsed.reason})"
            elif parsed.answer != pair.label:
                reason = f"answer {parsed.answer} disagrees with label {pair.label}"
            else:
                return parsed.reasoning, "", raw
        return None, reason, raw


def teacher_rationales(
    pairs_path: str | Path, out_path: str | Path, config: TeacherConfig, limit: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Ask the teacher for every pair not yet in ``out_path`` (or its ``.rejected.jsonl``); return counts.

    >>> # teacher_rationales("pairs.jsonl", "pairs_cot.jsonl", TeacherConfig(url="http://127.0.0.1:8000/v1",
    >>> #                    model="Qwen/Qwen2.5-VL-72B-Instruct"))  -> {"written": 812, "rejected": 31, ...}

    Pairs labelled ``tie`` are skipped (no answer to explain). Accepted pairs are written with their ``rationale``
    and ``rationale_source: "teacher:<model>"``; rejected ones go to ``<out>.rejected.jsonl`` with the reason and
    the teacher's reply. Delete the reject file to give rejected pairs another chance.
    """
    from tqdm.auto import tqdm

    out = Path(out_path)
    rejected_path = out.with_name(out.stem + ".rejected.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    for path in (out, rejected_path):
        _repair_tail(path)
    done = _done_ids(out, rejected_path)
    pairs = read_pairs(pairs_path)
    todo = [p for p in pairs if p.id not in done and p.label in ("A", "B")][:limit]
    counts = {"pairs": len(pairs), "already_done": len(done), "skipped_ties": sum(p.label == "tie" for p in pairs),
              "written": 0, "rejected": 0, "errors": 0}
    teacher, lock = _Teacher(config), threading.Lock()
    with ThreadPoolExecutor(config.concurrency) as pool, out.open("a", encoding="utf-8") as fh_ok, \
            rejected_path.open("a", encoding="utf-8") as fh_bad:
        futures = {pool.submit(teacher.ask, p): p for p in todo}
        for fut in tqdm(as_completed(futures), total=len(futures), desc="teacher rationales", disable=not progress):
            pair = futures[fut]
            with lock:
                _write_result(pair, fut, config.model, fh_ok, fh_bad, counts, Path(pairs_path).parent, out.parent)
    counts["output"], counts["rejected_file"] = str(out), str(rejected_path)
    return counts


def _write_result(pair: CreativePair, fut: Any, model: str, fh_ok: Any, fh_bad: Any, counts: dict[str, Any],
                  src_dir: Path, out_dir: Path) -> None:
    """Append one finished pair to the output or the reject file and flush (the resume point)."""
    try:
        rationale, reason, raw = fut.result()
    except Exception as err:  # noqa: BLE001 - a server error for one pair must not lose the others' work
        counts["errors"] += 1
        log.warning("teacher failed on %s: %s", pair.id, err)
        return  # not recorded: the next run retries it
    if rationale is None:
        fh_bad.write(json.dumps({"id": pair.id, "reason": reason, "reply": raw[:2000]}, ensure_ascii=False) + "\n")
        fh_bad.flush()
        counts["rejected"] += 1
        return
    pair.rationale = rationale
    pair.extra = {**pair.extra, "rationale_source": f"teacher:{model}"}
    fh_ok.write(json.dumps(_relative_row(pair, out_dir), ensure_ascii=False) + "\n")
    fh_ok.flush()
    counts["written"] += 1


def _relative_row(pair: CreativePair, base: Path) -> dict[str, Any]:
    from creative4u.data.pairs import _relative

    row = pair.to_json()
    for key in ("image_a", "image_b"):
        row[key] = _relative(row[key], base)
    return row


# -------------------------------------------------------------------------------------------- template mode
def template_rationales(
    pairs: Iterable[CreativePair], profile: str = "default", items: Sequence[int] | None = None,
    overwrite: bool = False, progress: bool = True, scores: bool = True,
) -> list[CreativePair]:
    """Fill the ``rationale`` of each pair from its check reports (pairs that already have one are kept).

    >>> # template_rationales(read_pairs("pairs.jsonl"))[0].rationale  -> "1. Same or too similar: ..."
    """
    from tqdm.auto import tqdm

    from creative4u.checks.suite import CheckSuite
    from creative4u.images import load_image

    suite = CheckSuite(profile)
    out = []
    for pair in tqdm(list(pairs), desc="template rationales", disable=not progress):
        if pair.rationale and not overwrite:
            out.append(pair)
            continue
        screens = [suite.screen(load_image(p)) for p in (pair.image_a, pair.image_b)]
        pair.rationale = template_rationale(pair, screens[0], screens[1], items, scores=scores)
        pair.extra = {**pair.extra, "rationale_source": "template"}
        out.append(pair)
    return out


def count_lines(path: str | Path) -> int:
    """Valid CreativePair lines in a JSONL file (for progress reports and tests)."""
    return sum(1 for _, p in iter_pairs(path, strict=False) if isinstance(p, CreativePair))
