"""Build CreativePair training/test sets from real photos: a clean creative against a degraded copy of itself.

>>> import tempfile
>>> from creative4u.data.photos import list_photos
>>> photos = list_photos(("skimage",))[:4]
>>> manifest = build_pairs(tempfile.mkdtemp(), photos, per_photo=1, categories=["blur", "border"], size=128)
>>> manifest["splits"]["train"]["pairs"] + manifest["splits"]["test"]["pairs"]
8

Layout of ``out_dir``: ``images/<photo id>/v<k>-clean.jpg`` and ``v<k>-<category>.jpg``; ``train.jsonl`` and
``test.jsonl`` (CreativePair lines, image paths relative to the file); ``meta.jsonl`` (one line per pair: photo,
split, severity and every drawn parameter); ``manifest.json`` (sources, licences, seed, counts). Whole photos (and
photo groups such as a stereo pair) are held out for test, so the test set measures generalisation to new pictures.
Every image depends only on ``(seed, photo id, variant, category)``: adding photos or categories leaves the others
byte-identical.
"""

from __future__ import annotations

import json
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from creative4u.data.degrade import DEGRADATIONS, make_creative
from creative4u.data.photos import Photo, find_cjk_font

# Plausible products a photo of each subject could advertise: (title, search queries).
PRODUCT_TEXT: dict[str, list[tuple[str, list[str]]]] = {
    "portrait": [("Kids' astronaut costume with helmet", ["astronaut costume", "space costume kids", "dress up"]),
                 ("Space camp summer programme, ages 10-16", ["space camp", "science summer camp", "astronaut"])],
    "cat": [("Grain-free salmon cat food, 2 kg", ["cat food", "grain free cat food", "salmon cat food"]),
            ("Washable plush cat bed", ["cat bed", "pet bed", "cat cushion"])],
    "coffee": [("Single-origin espresso beans, 1 kg", ["espresso beans", "coffee beans", "whole bean coffee"]),
               ("Porcelain espresso cup and saucer set", ["espresso cups", "coffee cup set", "porcelain cups"])],
    "rocket": [("Model rocket launch kit", ["model rocket", "rocket kit", "stem toys"]),
               ("Rocket launch viewing tour, Florida", ["rocket launch tickets", "space coast tour", "space trip"])],
    "space": [("130 mm reflector telescope", ["telescope", "astronomy telescope", "stargazing"]),
              ("Galaxy canvas print, 60x90 cm", ["galaxy wall art", "space poster", "canvas print"])],
    "eye": [("Full eye exam with retinal imaging", ["eye exam", "optometrist near me", "retina scan"]),
            ("Eye health vitamins, 60 capsules", ["eye vitamins", "lutein supplement", "vision support"])],
    "microscopy": [("Student microscope 40x-1000x", ["microscope", "biology microscope", "lab equipment"]),
                   ("Prepared histology slides, set of 50", ["microscope slides", "histology slides", "biology kit"])],
    "motorcycle": [("Full-face motorcycle helmet", ["motorcycle helmet", "full face helmet", "bike gear"]),
                   ("Sport motorcycle, book a test ride", ["sport bike", "motorcycle dealer", "test ride"])],
    "sky": [("Hot-air balloon ride gift voucher", ["balloon ride", "experience gift", "hot air balloon"]),
            ("Weatherproof outdoor camera", ["outdoor camera", "weatherproof camera", "time lapse camera"])],
    "insect": [("Clip-on macro lens for smartphones", ["macro lens", "phone camera lens", "close up lens"]),
               ("Wildflower seed mix for pollinators", ["wildflower seeds", "bee friendly seeds", "garden seeds"])],
    "fruit": [("Fresh figs, 1 kg box", ["fresh figs", "fruit delivery", "organic fruit"]),
              ("Handmade ceramic serving bowl", ["ceramic bowl", "serving bowl", "handmade pottery"])],
    "brushes": [("Artist paint brush set, 24 pieces", ["paint brushes", "art supplies", "acrylic brushes"])],
    "interior": [("Red wine selection, 6 bottles", ["red wine", "wine gift box", "wine delivery"]),
                 ("Wooden bookshelf speakers, pair", ["bookshelf speakers", "hifi speakers", "wooden speakers"])],
    "mountain": [("Guided hiking week in the mountains", ["hiking tours", "mountain holidays", "guided hikes"]),
                 ("Waterproof hiking boots", ["hiking boots", "waterproof boots", "trekking shoes"])],
    "toy": [("Glass globe pendant lamp", ["pendant light", "globe lamp", "ceiling light"]),
            ("Hanging hummingbird ornament", ["hanging ornament", "bird decoration", "nursery decor"])],
    "dog": [("Natural chicken chews for dogs", ["dog treats", "chicken chews", "natural dog snacks"]),
            ("Dog-friendly holiday cottage", ["dog friendly cottage", "holiday with dog", "pet friendly stay"])],
    "clock": [("Silent minimalist wall clock, 40 cm", ["wall clock", "silent clock", "modern clock"])],
    "forest": [("Forest cabin weekend getaway", ["cabin rental", "forest retreat", "weekend getaway"]),
               ("Trail running shoes", ["trail shoes", "running shoes", "off road running"])],
    "flower": [("Fresh flower bouquet, same-day delivery", ["flower delivery", "bouquet", "send flowers"]),
               ("Perennial flower seed collection", ["flower seeds", "perennials", "garden seeds"])],
    "sunset": [("Sunset photography workshop", ["photography course", "landscape photography", "workshop"]),
               ("Mountain sunset hiking tour", ["sunset hike", "guided tour", "mountain views"])],
    "water": [("Glass water bottle, 750 ml", ["water bottle", "glass bottle", "reusable bottle"]),
              ("Water-resistant smartwatch", ["smartwatch", "waterproof watch", "fitness tracker"])],
    "leaf": [("Organic houseplant fertiliser", ["plant food", "organic fertiliser", "houseplant care"]),
             ("Green tea face serum", ["green tea serum", "natural skincare", "face serum"])],
    "beach": [("Seaside holiday apartment", ["beach holiday", "seaside apartment", "coastal rental"]),
              ("Quick-dry beach towel", ["beach towel", "quick dry towel", "travel towel"])],
    "grass": [("Premium lawn seed, 5 kg", ["grass seed", "lawn seed", "lawn care"]),
              ("Organic wheatgrass powder", ["wheatgrass", "green superfood", "smoothie powder"])],
    "wood": [("Oak flooring planks, per square metre", ["wood flooring", "oak planks", "hardwood floor"]),
             ("Wood stain and protector, 2.5 L", ["wood stain", "wood protector", "deck oil"])],
    "scenery": [("Landscape canvas print", ["wall art", "canvas print", "landscape poster"])],
}

REASONS = {
    "blur": "is blurred, so the product's details are soft",
    "defocus": "is out of focus, so edges and textures are smeared",
    "motion_blur": "shows motion blur from camera shake, smearing the subject",
    "underexposed": "is underexposed: too dark, with detail lost in the shadows",
    "overexposed": "is overexposed: washed out, with blown highlights",
    "low_contrast": "looks flat and hazy (low contrast)",
    "noise": "is noisy and grainy",
    "jpeg": "shows heavy JPEG compression artifacts (blocks, ringing, colour bleeding)",
    "low_resolution": "is low resolution, stretched up and lacking detail",
    "border": "wastes space on a border or bars around the picture",
    "text_overlay": "is covered by heavy text or watermark overlays that hide the product",
    "off_centre": "has the product shrunk and pushed off-centre on an empty background",
    "tiny_product": "shows the product tiny in the middle of a large empty background",
}


def _rng(seed: int, *keys: Any) -> np.random.Generator:
    """A generator that depends only on ``seed`` and the keys (stable across runs, orderings and processes)."""
    return np.random.default_rng([int(seed)] + [zlib.crc32(str(k).encode("utf-8")) for k in keys])


def _size(size: int | Sequence[int]) -> tuple[int, int]:
    return (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))


def split_photos(photos: Sequence[Photo], holdout_fraction: float = 0.25, seed: int = 0) -> dict[str, str]:
    """Map photo id -> ``"train"``/``"test"``, holding out whole photo groups, stratified by source.

    >>> from creative4u.data.photos import list_photos
    >>> splits = split_photos(list_photos(("skimage",)), 0.25)
    >>> splits["skimage-motorcycle-left"] == splits["skimage-motorcycle-right"], sorted(set(splits.values()))
    (True, ['test', 'train'])
    """
    if not 0.0 <= holdout_fraction <= 1.0:
        raise ValueError(f"holdout_fraction must be in [0, 1], got {holdout_fraction}")
    by_source: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for p in photos:
        by_source[p.source][p.split_key].append(p.id)
    out: dict[str, str] = {}
    for source in sorted(by_source):
        groups = by_source[source]
        keys = sorted(groups)
        target = round(holdout_fraction * sum(len(v) for v in groups.values()))
        held, chosen = 0, []
        for i in _rng(seed, "split", source).permutation(len(keys)):
            if held >= target:
                break
            chosen.append(keys[i])
            held += len(groups[keys[i]])
        if 0.0 < holdout_fraction < 1.0 and len(chosen) == len(keys) and len(keys) > 1:
            chosen.pop()  # a source must keep something to train on
        for key in keys:
            for pid in groups[key]:
                out[pid] = "test" if key in chosen else "train"
    return out


def _product_text(photo: Photo, variant: int, seed: int) -> tuple[str, list[str]]:
    rng = _rng(seed, "text", photo.id, variant)
    options = PRODUCT_TEXT.get(photo.subject) or PRODUCT_TEXT["scenery"]
    title, queries = options[int(rng.integers(len(options)))]
    k = int(rng.integers(2, len(queries) + 1))
    return title, [queries[i] for i in sorted(rng.choice(len(queries), size=k, replace=False))]


def _save(img: Image.Image, path: Path, quality: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=int(quality), subsampling=2)  # explicit 4:2:0: same bytes on any Pillow default


def _render_photo(job: tuple[Photo, str, Path, dict[str, Any]]) -> list[dict[str, Any]]:
    """Write one photo's clean creatives and degraded copies; return one meta record per pair."""
    photo, split, out_dir, cfg = job
    w, h = cfg["size"]
    source = photo.load(min_side=int(1.3 * max(w, h)) + 1)  # decoded once, cropped per variant
    records = []
    for v in range(cfg["per_photo"]):
        creative, info = make_creative(source, (w, h), _rng(cfg["seed"], "creative", photo.id, v))
        clean_rel = f"images/{photo.id}/v{v}-clean.jpg"
        _save(creative, out_dir / clean_rel, cfg["jpeg_quality"])
        title, queries = _product_text(photo, v, cfg["seed"])
        for category in cfg["categories"]:
            rng = _rng(cfg["seed"], "degrade", photo.id, v, category)
            severity = float(rng.uniform(*cfg["severity_range"]))
            bad, params = DEGRADATIONS[category](creative, rng, severity)
            bad_rel = f"images/{photo.id}/v{v}-{category}.jpg"
            _save(bad, out_dir / bad_rel, params.get("save_quality", cfg["jpeg_quality"]))
            records.append({
                "id": f"{photo.id}-v{v}-{category}", "photo_id": photo.id, "subject": photo.subject, "variant": v,
                "category": category, "split": split, "clean": clean_rel, "degraded": bad_rel,
                "severity": round(severity, 4), "params": params, "creative": info, "title": title,
                "queries": queries,
            })
    return records


def _assign_positions(records: list[dict[str, Any]], seed: int) -> None:
    """Set ``clean_side`` so the clean image is A in exactly half of each split (to within one for odd counts).

    Each (split, category) stratum is balanced on its own; strata with an odd count alternate which side gets the
    extra one, so the split total is exact whenever it is even.
    """
    strata: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        strata[(r["split"], r["category"])].append(r)
    extra_a = {"train": True, "test": True}
    for (split, category), items in sorted(strata.items()):
        items.sort(key=lambda r: r["id"])
        n = len(items)
        n_a = n // 2 + (1 if n % 2 and extra_a[split] else 0)
        if n % 2:
            extra_a[split] = not extra_a[split]
        sides = np.array(["A"] * n_a + ["B"] * (n - n_a))
        for r, side in zip(items, _rng(seed, "positions", split, category).permutation(sides), strict=True):
            r["clean_side"] = str(side)


def _severity_word(severity: float) -> str:
    return "mild" if severity < 1 / 3 else "moderate" if severity < 2 / 3 else "strong"


def pair_row(record: dict[str, Any]) -> dict[str, Any]:
    """The CreativePair JSONL object of a meta record (image paths relative to ``out_dir``).

    >>> r = {"id": "x", "clean": "c.jpg", "degraded": "d.jpg", "clean_side": "B", "title": "Mug", "queries": ["mug"],
    ...      "category": "blur", "severity": 0.9, "subject": "coffee"}
    >>> pair_row(r)["image_a"], pair_row(r)["label"]
    ('d.jpg', 'B')
    """
    good = record["clean_side"]
    bad = "B" if good == "A" else "A"
    a, b = (record["clean"], record["degraded"]) if good == "A" else (record["degraded"], record["clean"])
    reason = REASONS.get(record["category"], f"is degraded ({record['category']})")
    rationale = (f"Both images show the same {record['subject']} photo. Image {bad} {reason} "
                 f"({_severity_word(record['severity'])}); Image {good} is the clean version with the subject clear "
                 f"and well presented, so users are more likely to click Image {good}.")
    return {"id": record["id"], "image_a": a, "image_b": b, "label": good, "title": record["title"],
            "queries": record["queries"], "category": record["category"], "rationale": rationale}


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
            n += 1
    return n


def _manifest(photos: Sequence[Photo], splits: dict[str, str], records: list[dict[str, Any]],
              cfg: dict[str, Any]) -> dict[str, Any]:
    sources: dict[str, dict[str, Any]] = {}
    for p in photos:
        entry = sources.setdefault(p.source, {"photos": 0, "licences": {}})
        entry["photos"] += 1
        entry["licences"][p.licence] = entry["licences"].get(p.licence, 0) + 1
    split_info = {}
    for split in ("train", "test"):
        rows = [r for r in records if r["split"] == split]
        split_info[split] = {
            "file": f"{split}.jsonl", "photos": sorted(p.id for p in photos if splits[p.id] == split),
            "pairs": len(rows), "by_category": dict(sorted(Counter(r["category"] for r in rows).items())),
            "labels": dict(sorted(Counter(r["clean_side"] for r in rows).items())),
        }
    photo_rows = [{**p.to_dict(), "path": p.path.name if p.path else None, "split": splits[p.id]} for p in photos]
    return {
        "format": "CreativePair JSONL", "builder": "creative4u.data.build_pairs", "seed": cfg["seed"],
        "size": list(cfg["size"]), "per_photo": cfg["per_photo"], "categories": list(cfg["categories"]),
        "holdout_fraction": cfg["holdout_fraction"], "jpeg_quality": cfg["jpeg_quality"],
        "severity_range": list(cfg["severity_range"]), "cjk_font": cfg["cjk_font"], "label": "the clean side",
        "splits": split_info, "sources": sources, "photos": photo_rows, "meta": "meta.jsonl",
    }


def build_pairs(out_dir: str | Path, photos: Sequence[Photo], per_photo: int = 2,
                categories: Sequence[str] | None = None, seed: int = 0, size: int | Sequence[int] = 512,
                holdout_fraction: float = 0.25, jpeg_quality: int = 92,
                severity_range: tuple[float, float] = (0.0, 1.0), workers: int = 1) -> dict[str, Any]:
    """Render ``per_photo`` clean creatives per photo, one degraded copy per category, and write the pair sets.

    >>> # manifest = build_pairs("data/pairs/v1", list_photos(), per_photo=2, size=512, workers=2)

    Labels always name the clean side; A/B positions are balanced by construction. Returns the manifest (also
    written to ``manifest.json``).
    """
    categories = list(categories) if categories is not None else list(DEGRADATIONS)
    unknown = [c for c in categories if c not in DEGRADATIONS]
    if unknown:
        raise KeyError(f"unknown categories {unknown}; valid: {', '.join(DEGRADATIONS)}")
    ids = [p.id for p in photos]
    if len(set(ids)) != len(ids):
        raise ValueError("photo ids must be unique")
    if per_photo < 1:
        raise ValueError("per_photo must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    photos = sorted(photos, key=lambda p: p.id)
    splits = split_photos(photos, holdout_fraction, seed)
    cjk = find_cjk_font()
    cfg = {"seed": int(seed), "size": _size(size), "per_photo": int(per_photo), "categories": categories,
           "holdout_fraction": holdout_fraction, "jpeg_quality": int(jpeg_quality),
           "severity_range": tuple(float(s) for s in severity_range), "cjk_font": cjk.name if cjk else None}
    jobs = [(p, splits[p.id], out, cfg) for p in photos]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunks = list(pool.map(_render_photo, jobs))
    else:
        chunks = [_render_photo(job) for job in jobs]
    records = [r for chunk in chunks for r in chunk]
    _assign_positions(records, seed)
    for split in ("train", "test"):
        _write_jsonl(out / f"{split}.jsonl", (pair_row(r) for r in records if r["split"] == split))
    _write_jsonl(out / "meta.jsonl", records)
    manifest = _manifest(photos, splits, records, cfg)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def build_check_labels(out_dir: str | Path) -> dict[str, Any]:
    """Write per-image labels for evaluating the checks: ``labels.jsonl`` plus ``labels_<split>.jsonl``.

    >>> # build_check_labels("data/pairs/v1")["by_flag"]  -> {'': 68, 'blur': 68, ...}

    One line per image, ``{"image": path relative to out_dir, "flags": [category]}``; clean creatives have ``[]``.
    Reads ``meta.jsonl`` written by :func:`build_pairs`, so the labels describe exactly the images of the pair sets.
    """
    out = Path(out_dir)
    records = [json.loads(line) for line in (out / "meta.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen: set[str] = set()
    for r in records:
        for image, flags in ((r["clean"], []), (r["degraded"], [r["category"]])):
            if image not in seen:
                seen.add(image)
                rows[r["split"]].append({"image": image, "flags": flags})
    summary: dict[str, Any] = {"labels": str(out / "labels.jsonl"), "images": len(seen), "splits": {}}
    for split, items in sorted(rows.items()):
        summary["splits"][split] = _write_jsonl(out / f"labels_{split}.jsonl", items)
    _write_jsonl(out / "labels.jsonl", (row for split in sorted(rows) for row in rows[split]))
    summary["by_flag"] = dict(sorted(Counter(f[0] if f else "" for f in
                                             (row["flags"] for items in rows.values() for row in items)).items()))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m creative4u.data.build_pairs OUT [--sources skimage,debian] [--per-photo 2] [--size 512] ...``."""
    import argparse

    from creative4u.data.photos import list_photos

    parser = argparse.ArgumentParser(description="Build CreativePair sets from real photos and degradations.")
    parser.add_argument("out_dir")
    parser.add_argument("--sources", default="skimage,debian", help="comma-separated: skimage, debian")
    parser.add_argument("--max-photos", type=int, default=None, help="use only the first N photos (by id)")
    parser.add_argument("--per-photo", type=int, default=2)
    parser.add_argument("--categories", default=None, help="comma-separated; default: all degradations")
    parser.add_argument("--size", type=int, nargs="+", default=[512], help="S or W H")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=float, default=0.25)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    photos = list_photos(tuple(s for s in args.sources.split(",") if s))[: args.max_photos]
    start = time.perf_counter()
    manifest = build_pairs(args.out_dir, photos, per_photo=args.per_photo,
                           categories=args.categories.split(",") if args.categories else None, seed=args.seed,
                           size=args.size[0] if len(args.size) == 1 else args.size[:2],
                           holdout_fraction=args.holdout, workers=args.workers)
    labels = build_check_labels(args.out_dir)
    summary = {s: {k: v for k, v in info.items() if k != "photos"} for s, info in manifest["splits"].items()}
    print(json.dumps({"seconds": round(time.perf_counter() - start, 1), "photos": len(photos), "splits": summary,
                      "label_images": labels["images"]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
