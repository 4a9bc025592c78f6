"""CTR log -> CreativePairs: thresholds, labels by CTR, balanced positions, clear errors; the builder converter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from creative4u.cli import main as cli_main
from creative4u.data.ctr_pairs import CTRFormatError, CTRPairConfig, pairs_from_builder, pairs_from_ctr, z_score
from creative4u.data.pairs import read_pairs

HEADER = "product_id,creative_id,image,impressions,clicks,title,queries,category\n"


def log(tmp_path: Path, rows: list[str], name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


ROWS = [
    "shoe,s1,img/s1.jpg,10000,500,Running shoe,running shoes|sneakers,shoes",   # 5.0 %
    "shoe,s2,img/s2.jpg,8000,200,Running shoe,running shoes|sneakers,shoes",    # 2.5 %
    "shoe,s3,img/s3.jpg,9000,430,Running shoe,running shoes|sneakers,shoes",    # 4.8 %: close to s1
    "shoe,s4,img/s4.jpg,50,20,Running shoe,,shoes",                             # too few impressions
    "mug,m1,img/m1.jpg,3000,30,Coffee mug,mug,kitchen",                         # 1.0 %
    "mug,m2,img/m2.jpg,3000,90,Coffee mug,mug,kitchen",                         # 3.0 %
]
CTR = {"s1": 0.05, "s2": 0.025, "s3": 430 / 9000, "m1": 0.01, "m2": 0.03}


def test_pairs_follow_the_reference_labelling(tmp_path: Path) -> None:
    pairs, stats = pairs_from_ctr(log(tmp_path, ROWS), CTRPairConfig(min_impressions=1000, min_relative_gap=0.2))
    assert stats == {"creatives": 6, "dropped_low_impressions": 1, "products": 2, "candidate_pairs": 4,
                     "dropped_same_image": 0, "dropped_small_gap": 1, "dropped_insignificant": 0,
                     "dropped_per_product_cap": 0, "pairs": 3}
    for p in pairs:
        ids = [Path(p.image_a).stem, Path(p.image_b).stem]
        assert p.extra["ctr_a"] == pytest.approx(CTR[ids[0]]) and p.extra["ctr_b"] == pytest.approx(CTR[ids[1]])
        assert p.label == ("A" if CTR[ids[0]] > CTR[ids[1]] else "B")  # the higher real CTR wins, whatever side
        assert Path(p.image_a).is_absolute() and p.title and p.queries
    shoe = next(p for p in pairs if p.extra["product_id"] == "shoe" and "s2" in p.id and "s1" in p.id)
    assert shoe.queries == ["running shoes", "sneakers"] and shoe.category == "shoes"
    assert sorted(p.label for p in pairs) in (["A", "A", "B"], ["A", "B", "B"])  # balanced by construction


def test_thresholds_are_options(tmp_path: Path) -> None:
    path = log(tmp_path, ROWS)
    loose, _ = pairs_from_ctr(path, CTRPairConfig(min_impressions=10, min_relative_gap=0.0))
    assert len(loose) == 7  # every pair with any gap: 6 of the 4 shoes (s4 included) and the mugs
    strict, stats = pairs_from_ctr(path, CTRPairConfig(min_impressions=1000, min_ctr_gap=0.021))
    assert [p.extra["product_id"] for p in strict] == ["shoe", "shoe"] and stats["dropped_small_gap"] == 2
    significant, stats = pairs_from_ctr(path, CTRPairConfig(min_impressions=1000, min_z=8.0))
    assert stats["dropped_insignificant"] == 2 and len(significant) == 1  # z: s1~s2 8.6, s2~s3 7.8, mugs 5.5
    assert significant[0].extra["z"] >= 8.0
    capped, stats = pairs_from_ctr(path, CTRPairConfig(min_impressions=1000, max_pairs_per_product=1))
    shoe = [p for p in capped if p.extra["product_id"] == "shoe"]
    assert len(shoe) == 1 and "s1" in shoe[0].id and "s2" in shoe[0].id  # the largest gap is kept
    assert stats["dropped_per_product_cap"] == 1


def test_jsonl_input_and_same_image(tmp_path: Path) -> None:
    rows = [{"product_id": "p", "image": "a.jpg", "impressions": 2000, "clicks": 100, "queries": ["q1", "q2"]},
            {"product_id": "p", "image": "a.jpg", "impressions": 2000, "clicks": 10},
            {"product_id": "p", "image": "b.jpg", "impressions": 2000.0, "clicks": 10}]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs, stats = pairs_from_ctr(path)
    assert (stats["dropped_same_image"], stats["dropped_small_gap"], len(pairs)) == (1, 1, 1)
    assert pairs[0].queries == ["q1", "q2"] and pairs[0].extra["ctr_a" if pairs[0].label == "A" else "ctr_b"] == 0.05


@pytest.mark.parametrize(("line", "message"), [
    ("shoe,x,img/x.jpg,100,200,t,,c", "clicks (200) exceed impressions (100)"),
    ("shoe,x,img/x.jpg,lots,2,t,,c", "impressions must be a number"),
    ("shoe,x,img/x.jpg,-5,0,t,,c", "non-negative whole number"),
    ("shoe,x,,100,2,t,,c", "missing value(s) for ['image']"),
])
def test_bad_rows_name_their_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(CTRFormatError, match=r"log\.csv:3: ") as err:
        pairs_from_ctr(log(tmp_path, [ROWS[0], line]))
    assert message in str(err.value)


def test_bad_config_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="min_impressions"):
        CTRPairConfig(min_impressions=0)
    with pytest.raises(FileNotFoundError):
        pairs_from_ctr(tmp_path / "nope.csv")


def test_z_score_matches_a_two_proportion_test() -> None:
    from creative4u.data.ctr_pairs import Creative

    a, b = Creative("p", "a", 1000, 50), Creative("p", "b", 1000, 20)
    pooled = 70 / 2000
    expected = (0.05 - 0.02) / (pooled * (1 - pooled) * (2 / 1000)) ** 0.5
    assert z_score(a, b) == pytest.approx(expected)


def test_cli_from_ctr_writes_relative_pairs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pairs.jsonl"
    assert cli_main(["data", "from-ctr", str(log(tmp_path, ROWS)), "--out", str(out), "--min-impressions", "1000",
                     "--no-balance"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["pairs"] == 3
    pairs = read_pairs(out)
    assert all(p.label == "A" for p in pairs)  # --no-balance: the better creative stays on side A
    assert json.loads(out.read_text().splitlines()[0])["image_a"].startswith("img/")


def test_pairs_from_builder_carries_build_records(tmp_path: Path) -> None:
    from creative4u.data.build_pairs import build_pairs
    from creative4u.data.photos import list_photos

    photos = [p for p in list_photos(("skimage",)) if p.id in ("skimage-coffee", "skimage-chelsea")]
    build_pairs(tmp_path, photos, per_photo=1, categories=["blur"], size=64, holdout_fraction=0.5)
    pairs = pairs_from_builder(tmp_path, splits=("train", "test"))
    assert len(pairs) == 2 and {p.extra["split"] for p in pairs} == {"train", "test"}
    assert all(p.extra["photo_id"].startswith("skimage-") and 0 <= p.extra["severity"] <= 1 for p in pairs)
    with pytest.raises(FileNotFoundError, match="build_pairs folder"):
        pairs_from_builder(tmp_path, splits=("val",))
