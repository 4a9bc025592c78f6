"""benchmarks/eval_designs.py: everyday designs (brand-colour canvases, type on colour, icon grids, collages) and
generator-style renders (benchmarks/design_renders.py) that no check may veto; the benchmark itself must run and
report."""

from __future__ import annotations


def test_everyday_designs_are_not_vetoed_and_the_report_names_each_family(benchmark_module):
    eval_designs = benchmark_module("eval_designs")
    result = eval_designs.evaluate(per_design=3, seed=0, families="designs")
    assert [r["design"] for r in result["rows"]] == list(eval_designs.DESIGNS)
    known = eval_designs.KNOWN_VETOED  # still vetoed, with the reason in the benchmark; reported, not asserted clean
    for name, why in known.items():
        print(f"known false rejection, not asserted here: {name} ({why})")
    for row in (r for r in result["rows"] if r["design"] not in known):
        assert row["vetoed"] == 0, row
        assert "exposure" not in row["flagged"] or row["design"].startswith("black type"), row
    table = eval_designs.report(result)
    assert all(f"| {name} | 0 of 3 |" in table for name in eval_designs.DESIGNS if name not in known), table
    assert all(f"| {name} |" in table for name in known if name in eval_designs.DESIGNS), table


def test_generator_style_renders_are_not_vetoed_and_each_family_is_reported(benchmark_module):
    """Glossy renders with clipped speculars, neon on black, pastel gradients, sunsets, tilt-shift and portrait-mode
    photos: smooth, glowing, dark or partly soft by design (pass 14)."""
    eval_designs = benchmark_module("eval_designs")
    result = eval_designs.evaluate(per_design=2, seed=0, families="renders")
    assert [r["design"] for r in result["rows"]] == list(eval_designs.RENDERS)
    known = eval_designs.KNOWN_VETOED
    for row in result["rows"]:
        if row["design"] in known:
            print(f"known false rejection, not asserted here: {row['design']} ({known[row['design']]})")
            continue
        assert row["vetoed"] == 0, row
    assert "| sunset with silhouette hills | 0 of 2 | none |" in eval_designs.report(result)


def test_each_photo_applies_every_photo_look_once_to_each_photo_after_an_as_shot_row(tmp_path, benchmark_module):
    """--each-photo: a look's vetoes read against the same photos as shot (pass 17's looks: retouch, painterly, HDR,
    unsharp mask, black and white, duotone, posterization)."""
    from PIL import Image
    from skimage import data

    eval_designs = benchmark_module("eval_designs")
    for name in ("coffee", "chelsea"):
        Image.fromarray(getattr(data, name)()).save(tmp_path / f"{name}.png")
    result = eval_designs.evaluate(per_design=5, seed=0, families="renders", photo_dir=tmp_path, each_photo=True)
    looks = [n for n in eval_designs.RENDERS if n.startswith("photo:")]
    assert [r["design"] for r in result["rows"]] == ["photo: as shot", *looks]
    assert {"photo: duotone", "photo: oversharpened (unsharp mask)"} <= set(looks)
    assert all(r["n"] == 2 for r in result["rows"]), result["rows"]
    assert result["rows"][0]["vetoed"] == 0, result["rows"][0]
