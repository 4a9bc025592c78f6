"""The Gradio demo driven in headless Chromium: log in, upload two creatives, click, see the winner and the cards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from creative4u.serve.api_server import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
REPO = Path(__file__).resolve().parents[2]
USER, PASSWORD = "advertiser", "c4u-demo-password"

pytestmark = pytest.mark.slow


def test_demo_card_escapes_text_found_in_images():
    from creative4u.serve.demo import card_html, comparisons_html

    image = {
        "name": "a.jpg",
        "approved": False,
        "vetoed": True,
        "size": [8, 8],
        "reasons": [],
        "checks": {
            "text": {
                "status": "flagged",
                "flagged": True,
                "score": 0.9,
                "threshold": 0.5,
                "summary": "found text: <script>alert(1)</script>",
                "values": {"text": "<img src=x onerror=1>"},
            }
        },
    }
    html = card_html(image, [])
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img src=x" not in html
    comp = {
        "comparisons": [
            {
                "image_a": "<b>a</b>",
                "image_b": "b",
                "verdict": "A",
                "confidence": 0.7,
                "rationale": "<iframe>",
                "flipped": False,
            }
        ]
    }
    assert "<iframe>" not in comparisons_html(comp) and "<b>a</b>" not in comparisons_html(comp)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """``creative4u demo`` as a child process with a login, on a free port."""
    d = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "CREATIVE4U_DEMO_USERS": f"{USER}:{PASSWORD}",
        "ORT_DISABLE_TELEMETRY": "1",
        "GRADIO_TEMP_DIR": str(d / "gradio"),
    }
    cmd = [
        sys.executable,
        "-m",
        "creative4u",
        "demo",
        "--port",
        str(port),
        "--set",
        f"demo_examples={REPO / 'data' / 'samples'}",
    ]
    log = open(d / "demo.log", "wb")  # noqa: SIM115 - open for the child's lifetime
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # importing gradio takes long on a busy 2-core machine
    try:
        while True:
            assert proc.poll() is None, (d / "demo.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "demo not up within 300 s:\n" + (d / "demo.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_demo_in_a_real_browser(demo_server, creative_jpegs, tmp_path):
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not installed (apt-get install -y chromium chromium-driver)"
        print(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    uploads = []
    for name in ("astronaut.jpg", "rocket.jpg"):
        (tmp_path / name).write_bytes(creative_jpegs[name])
        uploads.append(str(tmp_path / name))
    shot = tmp_path / "demo_screenshot.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.set_default_timeout(240_000)  # a busy 2-core CI machine: generous, never a timing assertion
        try:
            winner, cards, comparisons = drive(page, demo_server, uploads, shot)
        except Exception:
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nfailure screenshot: {shot}")
            raise
        finally:
            browser.close()
    print("\nbrowser saw:", winner, "| cards:", cards[:120].replace("\n", " "), "| screenshot:", shot)
    assert "Winner:" in winner and ("rocket.jpg" in winner or "astronaut.jpg" in winner)
    assert "astronaut.jpg" in cards and "rocket.jpg" in cards and "sharpness" in cards
    assert "vs" in comparisons
    assert shot.stat().st_size > 10_000
    if os.environ.get("CREATIVE4U_ARTIFACTS"):
        out = Path(os.environ["CREATIVE4U_ARTIFACTS"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, out / "demo_screenshot.png")


def drive(page, url: str, uploads: list[str], shot: Path) -> tuple[str, str, str]:
    """Log in, replace the preloaded examples with ``uploads``, run, and read the winner, cards and reasoning."""
    start = time.monotonic()

    def step(what: str) -> None:
        print(f"  [{time.monotonic() - start:6.1f} s] {what}")

    page.goto(url)
    page.get_by_label("username").fill(USER)  # the optional login is on: CREATIVE4U_DEMO_USERS
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#c4u-run")
    step("logged in")
    assert "coffee_clean" in page.inner_text("#c4u-files")  # examples preloaded: a first visit works in one click
    page.locator("#c4u-files").get_by_role("button", name="Clear").click()
    page.locator("#c4u-files input[type=file]").set_input_files(uploads)
    page.wait_for_function("() => document.querySelector('#c4u-files').innerText.includes('rocket')")
    step("uploaded")
    page.click("#c4u-run")
    page.wait_for_selector("#c4u-winner, .toast-body")
    step("answered")
    if not page.locator("#c4u-winner").count():
        pytest.fail(f"the demo showed an error: {page.inner_text('.toast-body')}")
    winner, cards, comparisons = (page.inner_text(s) for s in ("#c4u-winner", "#c4u-cards", "#c4u-comparisons"))
    page.screenshot(path=str(shot), full_page=True)
    return winner, cards, comparisons
