"""``creative4u index add/stats`` through the console script, then the duplicate check finds a re-encoded copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "creative4u", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def test_index_then_duplicate_check(tmp_path, photos):
    known = tmp_path / "known"
    known.mkdir()
    for name, img in photos.items():
        img.save(known / f"{name}.png")
    env = {**os.environ, "CREATIVE4U_INDEX": str(tmp_path / "index.sqlite")}
    added = _cli("index", "add", str(known), env=env)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["added"] == len(photos)
    stats = json.loads(_cli("index", "stats", env=env).stdout)
    assert stats["exists"] and stats["images"] == len(photos)
    copy = tmp_path / "copy.jpg"
    photos["coffee"].resize((300, 200)).save(copy, quality=70)
    out = _cli("check", str(copy), "--json", env=env)
    report = json.loads(out.stdout)["images"][0]["checks"]["duplicate"]
    assert report["flagged"] and "coffee" in json.dumps(report["values"])
