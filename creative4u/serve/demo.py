"""The Gradio demo for advertisers: upload creatives, get the winner, the ranking, the reasoning and the evidence.

>>> from creative4u.serve.config import GatewayConfig
>>> demo_users(GatewayConfig(demo_users_env="NO_SUCH_VARIABLE"))
[]
>>> card_html({"name": "<b>x</b>.jpg", "approved": True, "size": [8, 8], "reasons": [], "checks": {}}, [])[:61]
'<div class="c4u-card"><h4>&lt;b&gt;x&lt;/b&gt;.jpg — approved'

It calls :class:`creative4u.serve.serving.CreativeService`, the code behind the HTTP API, in-process. Everything
shown that comes from an image (text found by OCR, metadata, file names) is escaped before it reaches the page:
text inside an image is data, never markup or instructions.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import os
from pathlib import Path
from typing import Any

from creative4u.images import IMAGE_SUFFIXES
from creative4u.serve.config import GatewayConfig
from creative4u.serve.protocol import GatewayError, split_queries
from creative4u.serve.serving import CreativeService, RawImage

CSS = """
.c4u-cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 12px;}
.c4u-card {border: 1px solid #ccc; border-radius: 8px; padding: 8px; overflow: hidden;}
.c4u-card img {max-width: 100%; max-height: 260px; border-radius: 4px; margin: 2px 0;}
.c4u-card table {font-size: 12px; border-collapse: collapse; width: 100%; table-layout: fixed;}
.c4u-card td, .c4u-card th {border-bottom: 1px solid #eee; padding: 2px 4px; vertical-align: top; text-align: left;
  overflow-wrap: anywhere;}
.c4u-card th:nth-child(1) {width: 18%;} .c4u-card th:nth-child(2) {width: 15%;} .c4u-card th:nth-child(3) {width: 15%;}
.c4u-evidence {display: flex; flex-wrap: wrap; gap: 6px;} .c4u-evidence > div {flex: 1 1 45%;}
.c4u-flagged {color: #b00020; font-weight: bold;}
.c4u-winner {font-size: 1.4em;}
"""
logger = logging.getLogger("creative4u.demo")


def demo_users(config: GatewayConfig) -> list[tuple[str, str]]:
    """Login pairs from ``demo_users_file`` and the ``demo_users_env`` variable (``user:password`` each)."""
    text = os.environ.get(config.demo_users_env, "").replace(",", "\n")
    if config.demo_users_file:
        text += "\n" + Path(config.demo_users_file).read_text()
    users = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            user, sep, password = line.partition(":")
            if not sep or not user or not password:
                raise ValueError("demo users must be 'user:password' entries")
            users.append((user.strip(), password.strip()))
    return users


def example_paths(config: GatewayConfig) -> list[str]:
    """The preloaded example creatives (the config's folder, else the package's bundled samples)."""
    folder = Path(config.demo_examples)
    found = sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
    if not found:
        from creative4u.pipeline import default_samples

        found = default_samples()
    return [str(p) for p in found]


def _png_data_url(image: Any, max_side: int = 360) -> str:
    image = image.convert("RGB")
    image.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def evidence_images(data: bytes, name: str, checks: dict[str, dict]) -> list[tuple[str, str]]:
    """(label, data URL) of each check's evidence drawn on the image, when ``render_evidence`` is available."""
    try:
        from creative4u.checks.evidence import render_evidence
    except ImportError:
        return []  # the evidence renderer is optional: cards then show the findings as text only
    from creative4u.checks.base import CheckReport
    from creative4u.images import load_image

    img = load_image(data, name=name)
    out = []
    for check, report in checks.items():
        if not report.get("evidence"):
            continue
        try:
            drawn = render_evidence(img, CheckReport.from_dict(report))
        except Exception as err:  # noqa: BLE001 - one bad drawing must not hide the rest of the card
            out.append((f"{check}: evidence could not be drawn ({type(err).__name__})", ""))
            continue
        if drawn is not None:
            out.append((check, _png_data_url(drawn)))
    return out


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def card_html(image: dict[str, Any], evidence: list[tuple[str, str]], thumb: str = "") -> str:
    """One creative's card: status, every check's finding and values, its evidence images. All text escaped."""
    esc = html.escape
    status = "approved" if image["approved"] else ("vetoed" if image.get("vetoed") else "flagged")
    parts = [f'<div class="c4u-card"><h4>{esc(image["name"])} — {status}</h4>']
    if thumb:
        parts.append(f'<img alt="{esc(image["name"])}" src="{thumb}">')
    rows = ["<tr><th>check</th><th>status</th><th>score</th><th>finding</th></tr>"]
    for name, r in image.get("checks", {}).items():
        cls = ' class="c4u-flagged"' if r.get("flagged") else ""
        values = "; ".join(f"{esc(str(k))}={esc(_fmt_value(v))}" for k, v in list(r.get("values", {}).items())[:6])
        finding = esc(r.get("summary", "")) + (
            f"<details><summary>values</summary><small>{values}</small></details>" if values else ""
        )
        score = f"{r.get('score', 0):.2f} / {r.get('threshold', 0):.2f}"
        rows.append(
            f"<tr{cls}><td>{esc(name)}</td><td>{esc(r.get('status', ''))}</td><td>{score}</td><td>{finding}</td></tr>"
        )
    parts.append("<table>" + "".join(rows) + "</table>")
    shots = [f"<div><small>{esc(label)}</small>" + (f'<img alt="{esc(label)}" src="{url}">' if url else "") + "</div>"
             for label, url in evidence]  # fmt: skip
    if shots:
        parts.append('<div class="c4u-evidence">' + "".join(shots) + "</div>")
    return "".join(parts) + "</div>"


def comparisons_html(result: dict[str, Any]) -> str:
    esc = html.escape
    items = []
    for c in result["comparisons"]:
        who = {"A": c["image_a"], "B": c["image_b"]}.get(c["verdict"], "tie")
        flipped = " (order-dependent)" if c.get("flipped") else ""
        items.append(
            f"<li><b>{esc(c['image_a'])}</b> vs <b>{esc(c['image_b'])}</b>: winner <b>{esc(who)}</b>, "
            f"{c['confidence']:.0%} confident{flipped}<br>{esc(c['rationale'])}</li>"
        )
    return (
        "<ol>" + "".join(items) + "</ol>" if items else "<p>No comparisons (fewer than two competing creatives).</p>"
    )


def ranking_rows(result: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for r in result["ranking"]:
        status = "vetoed" if r["vetoed"] else ("approved" if r["approved"] else "flagged")
        rows.append([r["rank"], r["name"], round(r["score"], 3), r["wins"], status])
    return rows


def _read_uploads(files: list[Any] | None) -> tuple[list[RawImage], dict[str, str]]:
    paths = [getattr(f, "name", f) for f in (files or [])]
    raws, by_name = [], {}
    for i, path in enumerate(paths):
        name = Path(path).name
        if name in by_name:  # two uploads with one file name: keep both, distinguishable
            name = f"{Path(path).stem}_{i + 1}{Path(path).suffix}"
        raws.append(RawImage(name=name, param=f"images[{i}]", data=Path(path).read_bytes()))
        by_name[name] = str(path)
    return raws, by_name


async def run_selection(
    svc: CreativeService, files: list[Any] | None, title: str, queries: str, backend: str
) -> tuple:
    """The demo's one action: select, then build every output panel."""
    import asyncio

    import gradio as gr

    raws, paths = _read_uploads(files)
    try:
        outcome = await svc.select(raws, title or "", split_queries(queries or ""), backend or None, evidence=True)
    except GatewayError as err:
        raise gr.Error(err.message) from None
    except Exception as err:  # noqa: BLE001 - shown to the operator instead of a bare "Error"
        logger.exception("demo selection failed")
        raise gr.Error(f"selection failed: {type(err).__name__}: {err}") from None
    r = outcome.result
    head = f"Winner: {r['winner']}"
    note = f"Judged by <b>{html.escape(outcome.backend)}</b> ({html.escape(str(r.get('model', '')))})"
    if outcome.fallback_reason:
        note += (
            f"; the {html.escape(outcome.requested)} backend was unavailable: {html.escape(outcome.fallback_reason)}"
        )
    explanation = html.escape(r["explanation"])
    summary = f'<p class="c4u-winner" id="c4u-winner">{html.escape(head)}</p><p>{note}</p><p>{explanation}</p>'
    data = {raw.name: raw.data or b"" for raw in raws}

    def cards() -> str:
        out = []
        for image in r["images"]:
            blob = data.get(image["name"], b"")
            thumb = _thumb(blob)
            out.append(card_html(image, evidence_images(blob, image["name"], image["checks"]) if blob else [], thumb))
        return '<div class="c4u-cards">' + "".join(out) + "</div>"

    cards_html = await asyncio.to_thread(cards)  # drawing evidence is CPU work: keep the event loop free
    light = {k: v for k, v in r.items() if k != "images"}
    return summary, paths.get(r["winner"]), ranking_rows(r), comparisons_html(r), cards_html, light


def _thumb(blob: bytes) -> str:
    from PIL import Image

    try:
        return _png_data_url(Image.open(io.BytesIO(blob)), 240)
    except Exception:  # noqa: BLE001 - the card still shows the findings
        return ""


def build_demo(config: GatewayConfig, svc: CreativeService | None = None) -> Any:
    """The Gradio Blocks app (not launched)."""
    import gradio as gr

    svc = svc or CreativeService(config)
    examples = example_paths(config)
    backends = [(f"{n} — {b.description or b.backend}", n) for n, b in config.backends.items()]

    async def on_select(files: list[Any] | None, title: str, queries: str, backend: str) -> tuple:
        return await run_selection(svc, files, title, queries, backend)

    with gr.Blocks(title="creative4u — pick the better creative", analytics_enabled=False) as demo:
        gr.Markdown(
            "# creative4u\nUpload 2 or more creatives of one product; creative4u checks each one, compares "
            "them pairwise and explains which one users are more likely to click."
        )
        with gr.Row():
            with gr.Column(scale=2):
                files = gr.File(
                    label="Creatives (2..N images)",
                    file_count="multiple",
                    file_types=["image"],
                    value=examples[:2] or None,
                    elem_id="c4u-files",
                )
                preview = gr.Gallery(
                    label="Uploaded", columns=4, height=220, interactive=False, value=examples[:2] or None
                )
            with gr.Column(scale=1):
                title = gr.Textbox(label="Product title", value="Ceramic coffee cup, 350 ml", elem_id="c4u-title")
                queries = gr.Textbox(
                    label="Audience interests (comma-separated queries)", value="coffee, latte, gift mug"
                )
                backend = gr.Dropdown(backends, value=config.default_backend, label="Judge backend")
                run = gr.Button("Pick the best creative", variant="primary", elem_id="c4u-run")
        if len(examples) >= 2:
            gr.Examples(
                [[examples[i : i + 2]] for i in range(0, len(examples) - 1, 2)], inputs=[files], label="Example pairs"
            )
        summary = gr.HTML(elem_id="c4u-summary")
        with gr.Row():
            winner = gr.Image(label="Winner", type="filepath", interactive=False, height=260)
            ranking = gr.Dataframe(
                headers=["rank", "creative", "score", "wins", "status"], label="Ranking", interactive=False
            )
        gr.Markdown("### Each comparison's reasoning")
        comparisons = gr.HTML(elem_id="c4u-comparisons")
        gr.Markdown("### Checks and evidence, per creative")
        cards = gr.HTML(elem_id="c4u-cards")
        with gr.Accordion("Full structured result (JSON, as the API returns it)", open=False):
            raw = gr.JSON()
        files.change(lambda f: [getattr(x, "name", x) for x in (f or [])], inputs=files, outputs=preview)
        run.click(
            on_select,
            inputs=[files, title, queries, backend],
            outputs=[summary, winner, ranking, comparisons, cards, raw],
        )
    demo.c4u_service = svc
    demo.c4u_examples = examples
    return demo


def demo_app(config: GatewayConfig) -> Any:
    """The demo as a FastAPI app: Gradio mounted at ``/`` (login when demo users are configured), plus ``/health``.

    Mounting it ourselves, instead of ``Blocks.launch``, skips Gradio's share-link logic and its start-up probe of
    its own URL (which fails on a busy machine), and serves it with the same uvicorn as the API.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phone-home from a customer's network
    import gradio as gr
    from fastapi import FastAPI

    demo = build_demo(config)
    demo.queue(default_concurrency_limit=config.workers)
    app = FastAPI(title="creative4u demo", docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    folders = sorted({str(Path(p).resolve().parent) for p in demo.c4u_examples})
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])  # no web-font downloads
    users = demo_users(config)
    return gr.mount_gradio_app(
        app, demo, path="", auth=users or None, allowed_paths=folders, theme=theme, css=CSS, footer_links=[],
        ssr_mode=False, max_file_size=config.max_image_bytes, show_error=True,
    )  # fmt: skip


def launch_demo(config: GatewayConfig) -> None:
    """Serve the demo on ``config.host:config.demo_port`` until interrupted."""
    import uvicorn

    app = demo_app(config)
    logger.info("creative4u demo on http://%s:%d", config.host, config.demo_port)
    uvicorn.run(app, host=config.host, port=config.demo_port, log_level=config.log_level)
