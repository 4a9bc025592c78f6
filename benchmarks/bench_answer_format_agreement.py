"""Agreement of the GRPO rewards with the judge's strict parser on generated completions, before and after issue 12.

    python benchmarks/bench_answer_format_agreement.py                 # 5,000 completions, seed 0
    python benchmarks/bench_answer_format_agreement.py --n 20000 --seed 1

Completions come from the fragment grammar of ``creative4u.testing.completions`` (canonical answers, near misses
made by 1-3 token edits, fragment soup), each with a random label. Two agreement rates per code version:

* format: ``strict_format(c) == 1`` ⇔ ``parse_answer(c).ok``
* answer: ``answer_correct(c, label) == 1`` ⇔ ``parse_answer(c).ok and parse_answer(c).answer == label``

"rewarded but rejected" counts completions that earn ``answer_correct`` = 1 although the judge rejects them.

BEFORE is the rewards module and parser of commit 1cf4714 (read with ``git show``, so it needs the git history);
AFTER is the code in this checkout. Prints a table, a few disagreeing completions, and one JSON line.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import subprocess
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from creative4u.testing.completions import random_completion  # noqa: E402

BEFORE_COMMIT = "1cf4714"


def _module_from_git(path: str, name: str) -> types.ModuleType:
    """The module ``path`` as it was at :data:`BEFORE_COMMIT`, exec'd into a fresh namespace."""
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:{path}"], capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType(name)
    module.__file__ = f"{BEFORE_COMMIT}:{path}"
    sys.modules[name] = module  # dataclasses look their module up while the class body runs
    exec(compile(src, module.__file__, "exec"), module.__dict__)
    return module


def _agreement(
    texts: Sequence[str], labels: Sequence[str], rewards: Any, parse: Callable[[str], Any]
) -> dict[str, Any]:
    """Format and answer agreement rates of one rewards module against one parser, with a few counter-examples."""
    fmt = rewards.strict_format(texts)
    correct = rewards.answer_correct(texts, label=labels)
    fmt_bad, ans_bad = [], []
    for text, label, f, c in zip(texts, labels, fmt, correct, strict=True):
        parsed = parse(text)
        if (f == 1.0) != parsed.ok:
            fmt_bad.append((text, f, parsed.reason))
        if (c == 1.0) != (parsed.ok and parsed.answer == label):
            ans_bad.append((text, label, c, parsed.reason))
    n = len(texts)
    return {
        "format_agreement": 1 - len(fmt_bad) / n,
        "answer_agreement": 1 - len(ans_bad) / n,
        "format_disagreements": len(fmt_bad),
        "answer_disagreements": len(ans_bad),
        "rewarded_but_rejected": sum(1 for t, _, c, _ in ans_bad if c == 1.0),
        "examples": [repr(t) for t, *_ in (fmt_bad + ans_bad)[:4]],
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="completions to generate (default 5000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from creative4u.answer_format import TAGS, parse_answer
    from creative4u.train import rewards as after_rewards

    rnd = random.Random(args.seed)
    texts = [random_completion(rnd) for _ in range(args.n)]
    labels = [rnd.choice(("A", "B")) for _ in texts]
    reasons = collections.Counter(parse_answer(t).reason or "ok" for t in texts)
    # A near miss: rejected although it holds each of the four tags (the structure is almost right).
    near = sum(1 for t in texts if not parse_answer(t).ok and all(tag in t for tag in TAGS))
    results: dict[str, Any] = {"n": args.n, "seed": args.seed, "valid_share": reasons["ok"] / args.n,
                               "near_miss_share": near / args.n, "parse_outcomes": dict(reasons.most_common())}
    try:
        old_parser = _module_from_git("creative4u/judge/parsing.py", "_before_parsing")
        old_rewards = _module_from_git("creative4u/train/rewards.py", "_before_rewards")
        results["before"] = _agreement(texts, labels, old_rewards, old_parser.parse_answer)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"before: needs the git history (commit {BEFORE_COMMIT}): {exc}; reporting after only")
    results["after"] = _agreement(texts, labels, after_rewards, parse_answer)

    print(f"{args.n} completions (seed {args.seed}): {results['valid_share']:.1%} accepted by the parser, "
          f"{results['near_miss_share']:.1%} near misses (rejected, all four tags present), "
          f"{len(reasons) - 1} distinct rejection reasons")
    print(f"{'':8} {'format agree':>13} {'answer agree':>13} {'rewarded but rejected':>22}")
    for side in ("before", "after"):
        if side in results:
            r = results[side]
            print(f"{side:8} {r['format_agreement']:>13.2%} {r['answer_agreement']:>13.2%} "
                  f"{r['rewarded_but_rejected']:>22}")
            for example in r["examples"]:
                print(f"{'':8} e.g. {example[:100]}")
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
