"""``pool screen`` on a real Ray cluster: the same rows as ``creative4u check --json``, and a killed run resumes."""

from __future__ import annotations

import contextlib
import glob
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pool_compare import assert_same, comparable  # tests/pool is on sys.path (pytest's prepend import mode)

from creative4u.cli import main as cli_main
from creative4u.pool.screen import ScreenJob, read_rows, rows_to_check_result, screen_pool
from creative4u.pool.store import PoolStore, PoolStoreError


def check_json(path: str) -> dict[str, Any]:
    """What ``creative4u check --json PATH`` prints, run through the real CLI entry point in this process."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(["check", "--json", path])
    result = json.loads(out.getvalue())
    assert code == (1 if result["errors"] else 0)
    return result


@pytest.fixture(scope="module")
def screened(ray_cluster, image_pool: Path, tmp_path_factory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("screened") / "out"
    summary = screen_pool(ScreenJob(src=str(image_pool), out=str(out), batch_size=8, all_files=True))
    return summary, out


@pytest.mark.slow
def test_pool_rows_equal_check_json_per_image(screened, image_pool: Path) -> None:
    """Each of 221 files (real photos, their degradations, unreadable files): its row is `check --json FILE`."""
    summary, out = screened
    files = sorted(str(p) for p in image_pool.iterdir())
    assert len(files) >= 200 and summary["sources"] == len(files) and summary["written"] == len(files)
    rows = read_rows(out)
    assert [r["source"] for r in rows] == files  # every file once, unreadable ones included
    unreadable = [r for r in rows if r["error"]]
    assert sorted(Path(r["source"]).name for r in unreadable) == sorted(
        n for n in os.listdir(image_pool) if n.startswith("zz-"))
    assert summary["unreadable"] == len(unreadable) == 5
    flagged_any = 0
    for row in rows:
        ref = check_json(row["source"])  # one image, one request: what a pool row is
        mine = rows_to_check_result([row])
        assert mine["errors"] == ref["errors"], row["source"]
        assert_same(comparable(ref["images"]), comparable(mine["images"]), row["source"])
        if not row["error"]:
            flagged_any += bool(row["flagged"])
            for name, rep in json.loads(row["checks"]).items():  # the flat columns say what the JSON says
                assert row[f"{name}_score"] == rep["score"] and row[f"{name}_status"] == rep["status"]
    assert flagged_any > 100  # the degradations are really flagged: the comparison covers flags, not only passes


def test_pool_rerun_skips_everything(screened, image_pool: Path) -> None:
    summary, out = screened
    before = sorted(p.name for p in out.glob("part-*.parquet"))
    again = screen_pool(ScreenJob(src=str(image_pool), out=str(out), batch_size=8, all_files=True))
    assert again["written"] == 0 and again["skipped"] == summary["sources"]
    assert sorted(p.name for p in out.glob("part-*.parquet")) == before


def test_pool_refuses_another_profile_in_the_same_folder(screened, image_pool: Path) -> None:
    _, out = screened
    with pytest.raises(PoolStoreError, match="another job"):
        screen_pool(ScreenJob(src=str(image_pool), out=str(out), profile="strict"))


def _group_alive(pgid: int) -> list[int]:
    alive = []
    for d in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(int(d))
    return alive


@pytest.mark.slow
def test_sigkill_midway_then_rerun_gives_every_image_once(image_pool: Path, tmp_path: Path) -> None:
    """The CLI on its own local Ray: SIGKILL to its whole process group midway, rerun, every image exactly once."""
    files = sorted(image_pool.iterdir())[::5]  # 45 files, an unreadable one among them
    src = tmp_path / "list.csv"
    src.write_text("path\n" + "\n".join(map(str, files)) + "\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "creative4u", "pool", "screen", str(src), "--out", str(out), "--num-cpus", "2",
           "--batch-size", "4", "--object-store-mb", "128"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while len(glob.glob(str(out / "part-*.parquet"))) < 3:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no batch written in time"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    parts_at_kill = len(glob.glob(str(out / "part-*.parquet")))
    assert parts_at_kill < len(files) / 4  # killed midway: most batches were never written
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    summary = json.loads(rerun.stdout)
    assert summary["skipped"] >= 12 and summary["written"] + summary["skipped"] == len(files)
    rows = read_rows(out)
    assert sorted(r["source"] for r in rows) == sorted(map(str, files))  # every image exactly once
    assert not list((out / "_tmp").iterdir())
    deadline = time.monotonic() + 30  # the killed run's processes are gone (nothing left running on the machine)
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _group_alive(proc.pid)


def test_store_sets_a_damaged_part_aside_and_refuses_a_second_run(tmp_path: Path) -> None:
    import pyarrow as pa

    schema = pa.schema([("source", pa.string()), ("sha256", pa.string())])
    store = PoolStore(tmp_path, kind="screen", meta={"profile": "p"})
    store.open()
    store.write_part([{"source": "a", "sha256": "1"}], schema, key=["a"])
    assert store.write_part([{"source": "a", "sha256": "1"}], schema, key=["a"]).name  # a retry: the same file
    assert len(store.parts()) == 1
    (tmp_path / "part-broken.parquet").write_bytes(b"PAR1 half a file")
    assert store.done_keys(("source", "sha256")) == {("a", "1")}
    assert (tmp_path / "_damaged" / "part-broken.parquet").exists()  # kept for a person to look at
    with pytest.raises(PoolStoreError, match="in use"):
        PoolStore(tmp_path, kind="screen", meta={"profile": "p"}).open()
    store.close()
    PoolStore(tmp_path, kind="screen", meta={"profile": "p"}).open()  # free again once the first run closed


def test_cli_reports_a_missing_source(tmp_path: Path, capsys) -> None:
    code = cli_main(["pool", "screen", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert code == 2 and "no such folder or file" in capsys.readouterr().err


def test_cli_joins_a_running_cluster_with_address(ray_cluster, image_pool: Path, tmp_path: Path) -> None:
    """`--address` runs the job on an existing cluster (this session's) instead of starting one; `--evidence`."""
    import ray

    files = sorted(image_pool.iterdir())[:12]
    src = tmp_path / "list.jsonl"
    src.write_text("".join(json.dumps({"image": str(f)}) + "\n" for f in files))
    cmd = [sys.executable, "-m", "creative4u", "pool", "screen", str(src), "--out", str(tmp_path / "out"),
           "--address", ray.get_runtime_context().gcs_address, "--batch-size", "4", "--evidence", str(tmp_path / "ev")]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    assert summary["written"] == 12 and summary["actors"] == 2  # the cluster's 2 CPUs, one actor each
    assert summary["ray_startup_s"] < 3  # joined, not started
    rows = read_rows(tmp_path / "out")
    assert [r["source"] for r in rows] == [str(f) for f in files]
    drawn = [Path(p) for r in rows for p in r["evidence_files"]]  # --evidence: as `check --evidence` draws them
    assert drawn and all(p.parent == tmp_path / "ev" and p.stat().st_size > 0 for p in drawn)
