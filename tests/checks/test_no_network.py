"""No check touches the network: the whole suite runs in a process whose Python sockets are blocked from the start
(before onnxruntime, rapidocr, nudenet or c2pa are imported), on files that invite lookups (a cloud manifest, an
OCSP-signed manifest). Native code (the C2PA Rust library, onnxruntime's telemetry) bypasses Python's socket
module, so where ``strace`` works the process also runs under it and no AF_INET/AF_INET6 connect may appear."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
C2PA = REPO.parent / "shared" / "fixtures" / "c2pa"

SCRIPT = textwrap.dedent(
    """
    import json, socket, sys
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2])[:200])
        raise OSError("network disabled in this test")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.socket.sendto = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    socket.gethostbyname = refuse

    import io, threading, time
    from PIL import Image, ImageDraw
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import load_image, LoadedImage

    files = [load_image(p) for p in sys.argv[2:]]
    im = Image.new("RGB", (320, 200), (30, 90, 160))
    ImageDraw.Draw(im).text((10, 80), "SALE 50% OFF", fill="white")
    files.append(LoadedImage.from_pil(im, name="text.png"))
    suite = CheckSuite("marketplace-ugc")  # every content, provenance and forensics check on
    suite.checks["duplicate"].options["db"] = sys.argv[1]
    out = {}
    for img in files:
        screen = suite.screen(img)
        out[img.name] = {n: r.status for n, r in screen.reports.items()}
    time.sleep(1.0)  # give background threads (telemetry) time to try
    print(json.dumps({"attempts": attempts, "reports": out, "threads": threading.active_count()}))
    """
)


def _strace_prefix(tmp_path: Path) -> list[str]:
    """``strace`` recording connect/sendto of every thread, or [] (with a printed reason) where it cannot run."""
    if shutil.which("strace") is None:
        print("strace not installed: only Python-level sockets are checked")
        return []
    probe = subprocess.run(["strace", "-f", "-qq", "-e", "trace=connect", "-o", os.devnull, "true"],
                           capture_output=True)
    if probe.returncode != 0:
        print("strace cannot trace here (ptrace refused): only Python-level sockets are checked")
        return []
    return ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(tmp_path / "trace.txt")]


def test_suite_runs_with_sockets_blocked(tmp_path):
    from PIL import Image

    from creative4u.checks.duplicate import HashStore
    from creative4u.images import LoadedImage

    db = tmp_path / "known.sqlite"
    HashStore(db).add(LoadedImage.from_pil(Image.new("RGB", (64, 64), "red"), name="red.png"))
    files = [str(C2PA / n) for n in ("cloudx.jpg", "ocsp.jpg") if (C2PA / n).is_file()]
    if not files:
        print("C2PA fixtures absent: running on generated images only")
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}  # our code must set it itself
    cmd = [*_strace_prefix(tmp_path), sys.executable, "-c", SCRIPT, str(db), *files]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["attempts"] == [], result["attempts"]
    trace = tmp_path / "trace.txt"
    if trace.is_file():
        inet = [line for line in trace.read_text().splitlines() if re.search(r"sa_family=AF_INET6?\b", line)]
        assert inet == [], inet[:5]
    for name, statuses in result["reports"].items():
        assert "error" not in statuses.values(), (name, statuses)
    if any(f.endswith("cloudx.jpg") for f in files):
        assert result["reports"][str(C2PA / "cloudx.jpg")]["provenance"] == "ok"
