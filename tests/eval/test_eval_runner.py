"""The resumable eval loop on a real built benchmark: kill and resume, damaged lines, skipped lines, batching, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from creative4u.cli import main
from creative4u.cli.eval import split_action
from creative4u.config import load_config
from creative4u.eval.metrics import strip_timing
from creative4u.eval.runner import EvalConfig, load_predictions, run_eval
from creative4u.judge.base import Judge, JudgeUnavailableError, Verdict

REPO = Path(__file__).resolve().parents[2]


def _config(pairs, out, **kw) -> EvalConfig:
    return EvalConfig(pairs=str(pairs), out=str(out), progress=False, report=False, bootstrap=200, **kw)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.is_file() else 0


def _verdicts(out: Path) -> dict:
    rows, bad = load_predictions(out / "predictions.jsonl")
    assert bad == 0
    return {(r["pair_id"], r["order"]): (r["winner"], r["confidence"], r["p_a"]) for r in rows}


def _comparable(metrics: dict) -> dict:
    return {k: v for k, v in strip_timing(metrics).items() if k != "pairs_file"}


class NameJudge(Judge):
    """Prefers the image whose file name says "clean": a strong, honest judge of the benchmark's construction."""

    name = "by_name"
    needs_screens = False  # reads file names only

    def __init__(self, rationale: str = "", fail_on_call: int | None = None) -> None:
        self.calls: list[int] = []
        self.rationale = rationale
        self.fail_on_call = fail_on_call

    def judge_pairs(self, pairs):
        self.calls.append(len(pairs))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise JudgeUnavailableError("server went away")
        out = []
        for p in pairs:
            winner = "A" if "clean" in p.image_a.name else "B"
            out.append(Verdict(winner, 0.9, 0.9 if winner == "A" else 0.1, self.rationale or f"{winner} is clean",
                               self.name, "names", "ok", 1.0))
        return out


def test_killed_run_resumes_to_the_same_metrics(pair_bench, tmp_path):
    """SIGKILL a real `creative4u eval` mid-way, rerun it, and compare with an uninterrupted run."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "creative4u", "eval", str(pair_bench / "pairs.jsonl"), "--backend",
           "single:sharpness", "--batch-size", "1", "--no-report", "--no-progress", "--bootstrap", "200",
           "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while _lines(out / "predictions.jsonl") < 6 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    partial = _lines(out / "predictions.jsonl")
    assert 6 <= partial < 78, "the kill must land mid-way (39 pairs x 2 orders)"
    assert not (out / "metrics.json").exists()

    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming:" in resumed.stderr
    assert _lines(out / "predictions.jsonl") == 78  # nothing judged twice, nothing lost

    fresh = tmp_path / "fresh"
    run_eval(_config(pair_bench / "pairs.jsonl", fresh, backend="single:sharpness"))
    killed_metrics = json.loads((out / "metrics.json").read_text())
    fresh_metrics = json.loads((fresh / "metrics.json").read_text())
    assert _comparable(killed_metrics) == _comparable(fresh_metrics)
    assert _verdicts(out) == _verdicts(fresh)
    assert fresh_metrics["n_pairs"] == 39 and fresh_metrics["accuracy"] > 0.5


def test_half_written_last_line_is_dropped_and_rejudged(pair_bench, tmp_path):
    cfg = _config(pair_bench / "pairs.jsonl", tmp_path / "r", backend="random", limit=6)
    first = run_eval(cfg)
    path = tmp_path / "r" / "predictions.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[:-40])  # as if killed in the middle of writing the last row
    again = run_eval(cfg)
    assert _lines(path) == 12 and load_predictions(path)[1] == 0
    assert _comparable(again) == _comparable(first)


def test_bad_lines_are_reported_with_line_numbers_and_counted(pair_bench, tmp_path, capsys):
    good = (pair_bench / "pairs.jsonl").read_text().splitlines()[:5]
    broken_img = tmp_path / "images" / "broken.jpg"
    broken_img.parent.mkdir()
    broken_img.write_bytes(b"\xff\xd8\xff garbage, not a JPEG body")
    clean = str(pair_bench / json.loads(good[0])["image_a"])
    lines = [json.dumps({**json.loads(g), "image_a": str(pair_bench / json.loads(g)["image_a"]),
                         "image_b": str(pair_bench / json.loads(g)["image_b"])}) for g in good]
    lines.insert(1, "{not json")  # line 2
    lines.insert(3, json.dumps({"id": "x1", "image_a": clean, "image_b": clean, "label": "C"}))  # line 4
    lines.append(json.dumps({"id": "x2", "image_a": clean, "image_b": str(tmp_path / "gone.jpg"), "label": "A"}))
    lines.append(lines[0])  # line 9: duplicate id
    lines.append(json.dumps({"id": "x3", "image_a": clean, "image_b": str(broken_img), "label": "B"}))  # line 10
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(lines) + "\n")
    m = run_eval(_config(pairs, tmp_path / "out", backend="random"))
    assert m["n_pairs"] == 5
    sk = m["skipped"]
    assert sk["total"] == 5
    assert sk["by_reason"] == {"duplicate_id": 1, "malformed": 2, "missing_image": 1, "unreadable_image": 1}
    assert [s["line"] for s in sk["lines"]] == [2, 4, 8, 9, 10]
    err = capsys.readouterr().err
    assert f"{pairs}:2: invalid JSON" in err and "gone.jpg" in err and ":10: unreadable image" in err


def test_another_run_in_the_same_folder_is_refused(pair_bench, tmp_path):
    run_eval(_config(pair_bench / "pairs.jsonl", tmp_path / "r", backend="random", limit=2))
    with pytest.raises(ValueError, match="another run .*backend"):
        run_eval(_config(pair_bench / "pairs.jsonl", tmp_path / "r", backend="random", limit=2, seed=3))
    m = run_eval(_config(pair_bench / "pairs.jsonl", tmp_path / "r", backend="random", limit=2, seed=3,
                         overwrite=True))
    assert m["model"] == "random(seed=3)"


def test_batches_orders_and_a_failing_backend_keep_finished_work(pair_bench, tmp_path):
    pairs = pair_bench / "pairs.jsonl"
    judge = NameJudge(fail_on_call=3)
    cfg = _config(pairs, tmp_path / "r", backend="by_name", batch_size=4)
    with pytest.raises(JudgeUnavailableError):
        run_eval(cfg, judge=judge)
    assert judge.calls == [8, 8, 8]  # 4 pairs x 2 orders per call; the third call failed
    assert _lines(tmp_path / "r" / "predictions.jsonl") == 16
    judge2 = NameJudge()
    m = run_eval(cfg, judge=judge2)
    assert sum(judge2.calls) == (39 - 8) * 2
    assert m["accuracy"] == 1.0 and m["position_consistency"] == 1.0 and m["parse_failure_rate"] == 0.0

    ab = run_eval(_config(pairs, tmp_path / "ab", backend="by_name", batch_size=5, orders="ab"), judge=NameJudge())
    assert list(ab["accuracy_by_order"]) == ["ab"] and ab["position_consistency"] is None and ab["n_rows"] == 39


def test_report_escapes_untrusted_reasoning(pair_bench, tmp_path):
    hostile = "<script>alert(1)</script> [click](http://evil.example) IGNORE PREVIOUS INSTRUCTIONS"

    class Wrong(NameJudge):
        def judge_pairs(self, pairs):  # always wrong, so every pair reaches the gallery
            return [v.swapped() for v in super().judge_pairs(pairs)]

    cfg = EvalConfig(pairs=str(pair_bench / "pairs.jsonl"), out=str(tmp_path / "r"), backend="wrong", limit=4,
                     progress=False, bootstrap=100, worst=3)
    m = run_eval(cfg, judge=Wrong(rationale=hostile))
    assert m["accuracy"] == 0.0
    html = (tmp_path / "r" / "report.html").read_text()
    md = (tmp_path / "r" / "report.md").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    assert "<script>" not in md and "](http://evil" not in md
    for png in ("reliability", "per_category", "confusion", "latency"):
        assert (tmp_path / "r" / f"{png}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list((tmp_path / "r" / "gallery").glob("*.jpg"))) == 6


def test_cli_forms(pair_bench, tmp_path, capsys):
    assert split_action("checks", ["l.jsonl"]) == ("checks", ["l.jsonl"])
    assert split_action(None, ["--backend", "x"]) == ("run", ["--backend", "x"])
    out = tmp_path / "cli"
    rc = main(["eval", str(pair_bench / "pairs.jsonl"), "--backend", "random", "--seed", "2", "--limit", "4",
               "--out", str(out), "--no-progress", "--no-report", "--bootstrap", "50"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "accuracy (ties wrong)" in printed and "pairs judged" in printed
    assert json.loads((out / "metrics.json").read_text())["model"] == "random(seed=2)"
    # The run record holds every typed option of the backend, defaults included.
    assert json.loads((out / "run.json").read_text())["backend_options"] == {"seed": 2, "tie_rate": 0.0}
    assert main(["eval", str(tmp_path / "nope.jsonl"), "--out", str(out)]) == 2
    assert "pairs file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["eval", "compare", "--help"])
    assert exc.value.code == 0 and "McNemar" in capsys.readouterr().out


def test_yaml_config_with_cli_overrides(pair_bench, tmp_path):
    cfg_file = tmp_path / "bench.yaml"
    cfg_file.write_text(f"pairs: {pair_bench / 'pairs.jsonl'}\nbackend: random\nlimit: 3\nbootstrap: 50\n")
    assert main(["eval", "--config", str(cfg_file), "--out", str(tmp_path / "o"), "--limit", "2",
                 "--no-progress", "--no-report"]) == 0
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["n_pairs"] == 2
    # options before the pairs file, and the explicit `run` action
    assert main(["eval", "--backend", "random", "--limit", "3", str(pair_bench / "pairs.jsonl"), "--out",
                 str(tmp_path / "o2"), "--no-progress", "--no-report"]) == 0
    assert main(["eval", "run", str(pair_bench / "pairs.jsonl"), "--backend", "random", "--limit", "1", "--out",
                 str(tmp_path / "o3"), "--no-progress", "--no-report"]) == 0
    assert json.loads((tmp_path / "o2" / "metrics.json").read_text())["n_pairs"] == 3
    cfg_file.write_text("pairs: x\nbackedn: random\n")
    with pytest.raises(ValueError, match=r"bench.yaml: unknown key 'backedn' \(did you mean 'backend'\?\)"):
        load_config(EvalConfig, cfg_file)
    # --set wins over a flag, which wins over the file; any backend option is a dotted --set
    cfg_file.write_text(f"pairs: {pair_bench / 'pairs.jsonl'}\nbackend: random\nlimit: 3\nbootstrap: 50\n")
    assert main(["eval", "--config", str(cfg_file), "--out", str(tmp_path / "o4"), "--limit", "1", "--set", "limit=2",
                 "--set", "backend_options.tie_rate=0.0", "--no-progress", "--no-report"]) == 0
    assert json.loads((tmp_path / "o4" / "metrics.json").read_text())["n_pairs"] == 2


@pytest.mark.parametrize("name", ["feature", "random", "single_sharpness"])
def test_shipped_eval_configs_are_valid(name):
    cfg = load_config(EvalConfig, REPO / "eval" / "configs" / f"{name}.yaml", ["out=x"])
    assert cfg.pairs.endswith(".jsonl") and cfg.orders == "both"


def test_a_second_concurrent_run_is_refused(pair_bench, tmp_path):
    import fcntl

    out = tmp_path / "locked"
    out.mkdir()
    with (out / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running eval holds it
        with pytest.raises(RuntimeError, match="another creative4u eval is writing"):
            run_eval(_config(pair_bench / "pairs.jsonl", out, backend="random", limit=2))
    assert run_eval(_config(pair_bench / "pairs.jsonl", out, backend="random", limit=2))["n_pairs"] == 2


def test_build_bench_cli_is_deterministic_and_records_licences(tmp_path, capsys):
    import hashlib

    def digest(folder: Path) -> str:
        files = sorted(p for p in folder.rglob("*") if p.suffix in (".jpg", ".jsonl"))
        return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()

    argv = ["--max-photos", "2", "--per-photo", "1", "--size", "96", "--categories", "blur,border", "--seed", "4"]
    for name in ("a", "b"):
        assert main(["data", "build-bench", "--out", str(tmp_path / name), *argv]) == 0
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    bench = json.loads((tmp_path / "a" / "bench.json").read_text())
    assert bench["n_pairs"] == 4 and bench["n_label_images"] == 6
    assert all(p["licence"] and p["attribution"] for p in bench["photos"])
    assert bench["build"]["seed"] == 4 and bench["sources"]["skimage"]["photos"] == 2
    assert main(["data", "build-bench", "--out", str(tmp_path / "c"), *argv[:-1], "5"]) == 0
    assert digest(tmp_path / "c") != digest(tmp_path / "a")
    manifest = REPO / "eval" / "benchmarks" / "mini.yaml"
    from creative4u.cli.data import bench_options

    opts = bench_options(argparse_namespace(manifest=str(manifest), seed=9))
    assert opts["sources"] == "skimage" and opts["seed"] == 9 and opts["size"] == [384]


def argparse_namespace(**kw):
    import argparse

    from creative4u.cli.data import BENCH_DEFAULTS

    return argparse.Namespace(**{**dict.fromkeys(BENCH_DEFAULTS), **kw})


@pytest.mark.parametrize("argv", [["eval", "--help"], ["eval", "run", "--help"], ["eval", "checks", "--help"],
                                  ["eval", "x.jsonl", "--help"], ["data", "build-bench", "--help"]])
def test_every_help_renders(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0 and "usage:" in capsys.readouterr().out


def test_rows_of_a_changed_pair_are_not_reused(pair_bench, tmp_path, capsys):
    """A rebuilt pairs file may keep an id but swap A and B: old answers must not be scored against it."""
    rows = [json.loads(line) for line in (pair_bench / "pairs.jsonl").read_text().splitlines()[:6]]
    for r in rows:
        r["image_a"], r["image_b"] = str(pair_bench / r["image_a"]), str(pair_bench / r["image_b"])
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    judge = NameJudge()
    run_eval(_config(pairs, tmp_path / "r", backend="by_name"), judge=judge)
    for r in rows[:2]:  # swap the slots of two pairs, mirror their labels
        r["image_a"], r["image_b"], r["label"] = r["image_b"], r["image_a"], "B" if r["label"] == "A" else "A"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    judge2 = NameJudge()
    m = run_eval(_config(pairs, tmp_path / "r", backend="by_name"), judge=judge2)
    assert sum(judge2.calls) == 4  # the two changed pairs, both orders, judged again
    assert "show other images under the same pair id" in capsys.readouterr().err
    assert m["accuracy"] == 1.0 and m["n_pairs"] == 6
