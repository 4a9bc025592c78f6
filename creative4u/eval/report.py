"""The human-readable side of an evaluation: ``report.md`` and ``report.html`` with PNG plots and a mistake gallery.

>>> md_escape("**click** [here](http://x) <b>")
'\\\\*\\\\*click\\\\*\\\\* \\\\[here\\\\]\\\\(http://x\\\\) &lt;b&gt;'

Plots (matplotlib, Agg backend, written beside the report): ``reliability.png`` (confidence against accuracy),
``per_category.png``, ``confusion.png`` (A/B/tie, per pair and per order as the judge saw it), ``latency.png``; the
gallery shows the most confident mistakes with both images as thumbnails and the judge's reasoning. A rationale can
quote text found inside an image, which is untrusted: it is escaped in both formats, never rendered as markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ORDERS = ("ab", "ba")
FIGURES = {
    "reliability": "Reliability diagram",
    "per_category": "Accuracy per category",
    "confusion": "Confusion (label vs verdict)",
    "latency": "Judge latency per order",
}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md_escape(text: str) -> str:
    """Make untrusted text inert in Markdown: escape markup characters and HTML, fold newlines."""
    text = _MD_SPECIAL.sub(r"\\\1", str(text))
    return html.escape(text, quote=False).replace("\r", " ").replace("\n", " ")


def md_code(text: str) -> str:
    """Untrusted text as an inline code span: backticks and newlines removed, so nothing inside is markup.

    >>> md_code("a`b")
    "`a'b`"
    """
    return "`" + str(text).replace("`", "'").replace("\r", " ").replace("\n", " ") + "`"


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as err:  # pragma: no cover - depends on the environment
        msg = (
            "the eval report needs matplotlib, in the data extra: pip install 'creative4u[data]' "
            "(from a clone: pip install -e '.[data]'), or rerun with --no-report for the metrics only"
        )
        raise RuntimeError(msg) from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _fmt(x: Any, pct: bool = True) -> str:
    if x is None:
        return "n/a"
    return f"{x:.1%}" if pct else f"{x:.3g}"


def _ci(m: dict[str, Any], key: str) -> str:
    lo, hi = m.get(f"{key}_ci95") or [None, None]
    if lo is None or lo != lo:  # NaN: no pairs
        return ""
    return f" (95% CI {lo:.1%} – {hi:.1%})"


# ------------------------------------------------------------------------------------------------------- plots


def plot_reliability(metrics: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    cal = metrics["calibration"]
    bins = [b for b in cal["bins"] if b["n"]]
    fig, (ax, axn) = plt.subplots(2, 1, figsize=(5, 5.5), height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    if bins:
        mids = [(b["lo"] + b["hi"]) / 2 for b in bins]
        ax.bar(mids, [b["accuracy"] for b in bins], width=0.09, alpha=0.7, label="accuracy in bin")
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", color="C3", label="mean conf.")
        axn.bar(mids, [b["n"] for b in bins], width=0.09, color="C7")
    ece = cal.get("ece")
    ax.set_title(f"Reliability (ECE {_fmt(ece, False)}, Brier {_fmt(cal.get('brier'), False)})")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left", fontsize=8)
    axn.set_xlabel("confidence of the answer")
    axn.set_ylabel("answers")
    axn.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_per_category(metrics: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    cats = metrics["per_category"]
    names = list(cats)
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(names) + 1.4))
    acc = [cats[n]["accuracy"] or 0.0 for n in names]
    ax.barh(names, acc, color="C0")
    for y, n in enumerate(names):
        ax.text(acc[y] + 0.01, y, f"{acc[y]:.0%} (n={cats[n]['n']})", va="center", fontsize=8)
    ax.axvline(metrics["accuracy"], color="C3", label=f"overall {metrics['accuracy']:.1%}")
    ax.axvline(0.5, color="grey", linestyle="--", label="chance (50%)")
    ax.set_xlim(0, 1.2)  # room for the labels right of a 100% bar
    ax.invert_yaxis()
    ax.set_xlabel("accuracy (ties count wrong)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(metrics: dict[str, Any], path: Path) -> None:
    import numpy as np

    plt = _pyplot()
    answers = ("A", "B", "tie")
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    titles = {"pair": "per pair (both orders combined)", "as_shown": "per order, as the judge saw it"}
    for ax, key in zip(axes, ("pair", "as_shown"), strict=True):
        mat = np.array([[metrics["confusion"][key][lab][a] for a in answers] for lab in answers])
        ax.imshow(mat, cmap="Blues")
        for i in range(3):
            for j in range(3):
                ax.text(j, i, str(mat[i, j]), ha="center", va="center", color="black")
        ax.set_xticks(range(3), answers)
        ax.set_yticks(range(3), answers)
        ax.set_xlabel("verdict")
        ax.set_ylabel("label")
        ax.set_title(titles[key], fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_latency(results: Sequence[Any], metrics: dict[str, Any], path: Path) -> None:
    import numpy as np

    plt = _pyplot()
    lat = np.asarray([float(row.get("latency_ms") or 0.0) for r in results for row in r.rows.values()])
    fig, ax = plt.subplots(figsize=(6, 3.2))
    positive = lat[lat > 0]
    if positive.size and positive.max() / max(positive.min(), 1e-9) > 50:
        ax.hist(positive, bins=np.geomspace(positive.min(), positive.max(), 30))
        ax.set_xscale("log")
    else:
        ax.hist(lat, bins=30)
    lm = metrics["latency_ms"]
    for q, style in (("p50", "-"), ("p95", "--")):
        if lm.get(q) is not None:
            ax.axvline(lm[q], color="C3", linestyle=style, label=f"{q} {lm[q]:.3g} ms")
    ax.set_xlabel("judge latency per order (ms)")
    ax.set_ylabel("orders")
    pps = metrics.get("pairs_per_second")
    ax.set_title(f"Latency ({_fmt(pps, False)} pairs/s end to end)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------------ gallery


def worst_mistakes(results: Sequence[Any], k: int = 12) -> list[Any]:
    """Wrong pairs, most confident first (a confident wrong answer is worse than an order flip)."""
    wrong = [r for r in results if not r.correct]
    return sorted(wrong, key=lambda r: (r.verdict == "tie", -r.confidence, r.pair_id))[:k]


def _thumb(src: str, dst: Path, side: int = 256) -> str | None:
    from creative4u.images import ImageLoadError, load_image

    try:
        img = load_image(src).image.copy()
    except (ImageLoadError, OSError):
        return None
    img.thumbnail((side, side))
    img.save(dst, "JPEG", quality=85)
    return dst.name


def gallery(out: Path, results: Sequence[Any], k: int) -> list[dict[str, Any]]:
    """Thumbnails and the reasoning of the ``k`` worst mistakes, as plain data for both report formats."""
    folder = out / "gallery"
    folder.mkdir(exist_ok=True)
    items = []
    for i, r in enumerate(worst_mistakes(results, k)):
        row = next(iter(r.rows.values()))
        thumbs = {s: _thumb(row[f"image_{s}"], folder / f"{i:02d}_{s}.jpg") for s in ("a", "b")}
        items.append(
            {
                "pair_id": r.pair_id,
                "category": r.category,
                "label": r.label,
                "verdict": r.verdict,
                "confidence": r.confidence,
                "thumbs": {s: f"gallery/{t}" if t else None for s, t in thumbs.items()},
                "names": {s: Path(row[f"image_{s}"]).name for s in ("a", "b")},
                "orders": [(o, r.rows[o]["winner"], r.rows[o].get("rationale", "")) for o in ORDERS if o in r.rows],
            }
        )
    return items


# ------------------------------------------------------------------------------------------------------ writing


def headline_rows(m: dict[str, Any]) -> list[tuple[str, str]]:
    """The main metrics as (name, formatted value) rows, shared by both report formats and ``eval compare``."""
    cal, bal = m["calibration"], m["answer_balance"]
    return [
        ("pairs judged", str(m["n_pairs"])),
        ("accuracy (ties wrong)", _fmt(m["accuracy"]) + _ci(m, "accuracy")),
        ("accuracy without ties", _fmt(m["accuracy_without_ties"]) + _ci(m, "accuracy_without_ties")),
        ("tie rate", _fmt(m["tie_rate"])),
        ("accuracy per order (ab / ba)", " / ".join(_fmt(v) for v in m["accuracy_by_order"].values())),
        ("position consistency", _fmt(m["position_consistency"])),
        ("flip rate", _fmt(m["flip_rate"])),
        ("answers A / B / tie", " / ".join(_fmt(bal[a]) for a in ("A", "B", "tie"))),
        ("position bias (A - B share)", _fmt(bal["position_bias"], False)),
        ("parse failures / forced choices", f"{_fmt(m['parse_failure_rate'])} / {_fmt(m['forced_choice_rate'])}"),
        ("ECE / Brier", f"{_fmt(cal['ece'], False)} / {_fmt(cal['brier'], False)}"),
        ("latency p50 / p95 (ms)", f"{_fmt(m['latency_ms']['p50'], False)} / {_fmt(m['latency_ms']['p95'], False)}"),
        ("pairs per second", _fmt(m["pairs_per_second"], False)),
        ("skipped lines", str(m["skipped"].get("total", 0))),
    ]


def _markdown(m: dict[str, Any], items: list[dict[str, Any]]) -> str:
    lines = [
        f"# Evaluation: {md_escape(m['backend'])} ({md_escape(m['model'])})",
        "",
        f"Pairs file {md_code(m.get('pairs_file', ''))}, orders: {m.get('orders', 'both')}.",
        "",
        "| metric | value |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in headline_rows(m)],
        "",
        "## Per category",
        "",
        "| category | n | accuracy | without ties | tie rate | consistency |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for cat, c in m["per_category"].items():
        lines.append(
            f"| {md_escape(cat)} | {c['n']} | {_fmt(c['accuracy'])} | {_fmt(c['accuracy_without_ties'])} | "
            f"{_fmt(c['tie_rate'])} | {_fmt(c['position_consistency'])} |"
        )
    lines += ["", "## Plots", ""] + [f"![{t}]({k}.png)" for k, t in FIGURES.items()]
    lines += _skipped_md(m)
    lines += ["", f"## Worst mistakes ({len(items)})", "",
              "Most confident wrong verdicts first. The reasoning is quoted as data (escaped)."]
    for i, it in enumerate(items, 1):
        lines += ["", f"### {i}. {md_escape(it['pair_id'])} ({md_escape(it['category'])})", "",
                  f"label **{it['label']}**, verdict **{it['verdict']}** ({it['confidence']:.0%} confident)", ""]
        for s in ("a", "b"):
            thumb = it["thumbs"][s]
            alt = f"{s.upper()}: {md_escape(it['names'][s])}"
            lines.append(f"![{alt}]({thumb})" if thumb else f"({alt}: missing)")
        for order, winner, text in it["orders"]:
            lines += ["", f"> order {order}, answered {winner}: {md_escape(text)}"]
    return "\n".join(lines) + "\n"


def _skipped_md(m: dict[str, Any]) -> list[str]:
    sk = m["skipped"]
    if not sk.get("total"):
        return []
    out = ["", f"## Skipped lines ({sk['total']})", ""]
    out += [f"- line {s['line']} ({s['reason']}): {md_escape(s['message'])}" for s in sk.get("lines", [])]
    return out


_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>creative4u eval: {{ m.backend }}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.pair img{max-width:256px;margin-right:8px;border:1px solid #999}
.why{background:#f5f5f5;padding:6px;white-space:pre-wrap}
figure{display:inline-block;margin:0 1em 1em 0}</style></head><body>
<h1>Evaluation: {{ m.backend }} ({{ m.model }})</h1>
<p>Pairs file <code>{{ m.pairs_file }}</code>, orders: {{ m.orders }}.</p>
<table>{% for k, v in rows %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
<h2>Per category</h2>
<table><tr><th>category</th><th>n</th><th>accuracy</th><th>without ties</th><th>tie rate</th><th>consistency</th></tr>
{% for cat, c in m.per_category.items() %}<tr><td>{{ cat }}</td><td>{{ c.n }}</td><td>{{ fmt(c.accuracy) }}</td>
<td>{{ fmt(c.accuracy_without_ties) }}</td><td>{{ fmt(c.tie_rate) }}</td>
<td>{{ fmt(c.position_consistency) }}</td></tr>
{% endfor %}</table>
<h2>Plots</h2>{% for k, t in figures.items() %}<figure><img src="{{ k }}.png" alt="{{ t }}">
<figcaption>{{ t }}</figcaption></figure>{% endfor %}
{% if m.skipped.total %}<h2>Skipped lines ({{ m.skipped.total }})</h2><ul>{% for s in m.skipped.lines %}
<li>line {{ s.line }} ({{ s.reason }}): {{ s.message }}</li>{% endfor %}</ul>{% endif %}
<h2>Worst mistakes ({{ items|length }})</h2><p>Most confident wrong verdicts first; reasoning quoted as data.</p>
{% for it in items %}<div class="pair"><h3>{{ loop.index }}. {{ it.pair_id }} ({{ it.category }})</h3>
<p>label <b>{{ it.label }}</b>, verdict <b>{{ it.verdict }}</b>
({{ "%.0f"|format(it.confidence * 100) }}% confident)</p>
{% for s in ["a", "b"] %}{% if it.thumbs[s] %}<img src="{{ it.thumbs[s] }}" alt="{{ s|upper }}: {{ it.names[s] }}"
title="{{ s|upper }}: {{ it.names[s] }}">{% else %}<span>({{ s|upper }}: missing)</span>{% endif %}{% endfor %}
{% for order, winner, text in it.orders %}<p class="why">order {{ order }}, answered {{ winner }}: {{ text }}</p>
{% endfor %}</div>{% endfor %}
</body></html>
"""


def write_report(out: str | Path, results: Sequence[Any], metrics: dict[str, Any], worst: int = 12) -> list[Path]:
    """Write the plots, the gallery, ``report.md`` and ``report.html`` into ``out``; return the files written."""
    import jinja2

    out = Path(out)
    plot_reliability(metrics, out / "reliability.png")
    plot_per_category(metrics, out / "per_category.png")
    plot_confusion(metrics, out / "confusion.png")
    plot_latency(results, metrics, out / "latency.png")
    items = gallery(out, results, worst)
    (out / "report.md").write_text(_markdown(metrics, items), encoding="utf-8")
    env = jinja2.Environment(autoescape=True)  # every value is escaped: rationales may quote text from images
    page = env.from_string(_HTML).render(m=metrics, rows=headline_rows(metrics), items=items, figures=FIGURES,
                                         fmt=_fmt)
    (out / "report.html").write_text(page, encoding="utf-8")
    return [out / f"{k}.png" for k in FIGURES] + [out / "report.md", out / "report.html"]
