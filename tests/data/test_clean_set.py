"""The multi-style clean set: rendered styles, photo grades, unseen text overlays, stable splits, the manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from creative4u.data.clean_set import MIN_VISIBLE_CHANGE, _fit, build_clean_set, split_of, visible_change
from creative4u.data.styled import NOVEL_TEXT_STYLES, STYLES, novel_text_overlay, render_style


def test_every_style_renders_at_the_asked_size():
    rng = np.random.default_rng(0)
    for style in STYLES:
        img = render_style(style, rng, (120, 90))
        assert img.size == (120, 90) and np.asarray(img).std() > 1.0, style


def test_unseen_text_styles_leave_ink_on_the_picture():
    base = Image.new("RGB", (200, 160), (90, 120, 150))
    for style in NOVEL_TEXT_STYLES:
        out, params = novel_text_overlay(base, np.random.default_rng(1), style)
        assert params["style"] == style and params["ink_coverage"] > 0.001, style
        assert np.abs(np.asarray(out, float) - np.asarray(base, float)).max() > 40


def test_split_is_stable_and_holds_out_about_a_third():
    keys = [f"render:gradient:{k}" for k in range(300)]
    splits = [split_of(k) for k in keys]
    assert splits == [split_of(k) for k in keys]
    assert 0.25 < splits.count("heldout") / len(keys) < 0.42


def test_build_writes_labels_and_a_licensed_manifest(tmp_path):
    summary = build_clean_set(tmp_path, side=96, per_image=2, sources=("render",), fetch_font=False)
    manifest = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert summary["clean"]["dev"] + summary["clean"]["heldout"] == len(manifest) > 20
    assert all(r["licence"] == "CC0-1.0" and (tmp_path / r["image"]).is_file() for r in manifest)
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    left_out = sum(summary["left_out_invisible"].values())
    assert sum(bool(r["flags"]) for r in rows) == 2 * len(manifest) - left_out
    assert all((tmp_path / r["image"]).is_file() for r in rows)
    # Every degraded copy that was kept changes some part of its picture visibly.
    assert all(r["change"] >= MIN_VISIBLE_CHANGE for r in rows if r["flags"])


def test_invisible_degradations_and_featureless_crops_are_left_out():
    rng = np.random.default_rng(0)
    assert _fit(Image.new("RGB", (800, 600), (4, 4, 8)), rng, 128) is None  # a black corner is not a creative
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    assert max(_fit(photo, rng, 128).size) == 128
    flat = Image.new("RGB", (128, 128), (30, 60, 90))
    from PIL import ImageFilter

    assert visible_change(flat, flat.filter(ImageFilter.GaussianBlur(4))) < MIN_VISIBLE_CHANGE
    assert visible_change(photo, photo.filter(ImageFilter.GaussianBlur(2))) >= MIN_VISIBLE_CHANGE


def test_unknown_sources_are_refused_with_the_valid_names(tmp_path, monkeypatch, capsys):
    """Refused before anything is fetched or written; the command line says so in one line, no traceback."""
    import creative4u.data.photos as photos
    from creative4u.data.clean_set import main

    fetched = []
    monkeypatch.setattr(photos, "fetch_cjk_font", lambda cache: fetched.append(cache))
    with pytest.raises(ValueError, match="gcompris"):
        build_clean_set(tmp_path / "set", sources=("render", "wallpaperz"))
    with pytest.raises(SystemExit) as exit_:
        main(["--out", str(tmp_path / "set"), "--sources", "wallpaperz"])
    assert exit_.value.code == 2 and "unknown clean-set source(s) ['wallpaperz']" in capsys.readouterr().err
    assert fetched == [] and not (tmp_path / "set").exists()


def test_a_photo_and_its_grade_share_a_split(tmp_path, monkeypatch):
    """Held-out honesty: a low-key / mono / sepia copy in dev would tune the checks on the held-out original."""
    import creative4u.data.clean_set as cs
    from creative4u.data.photos import list_photos

    monkeypatch.setattr(cs, "list_photos", lambda sources, cache_dir=None: list_photos(("skimage",)))
    build_clean_set(tmp_path, side=64, per_image=1, sources=("photo",), fetch_font=False)
    manifest = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    groups: dict[str, set[str]] = {}
    for row in manifest:
        groups.setdefault(":".join(row["key"].split(":")[:2]), set()).add(row["split"])
    graded = [g for g in groups if sum(r["key"].startswith(g + ":") for r in manifest)]
    assert len(graded) >= 4 and all(len(groups[g]) == 1 for g in graded)
    assert {s for g in groups.values() for s in g} == {"dev", "heldout"}  # both splits still get photos


def test_product_shots_are_photographed_cutouts_on_a_plain_canvas_never_upscaled():
    from skimage import data

    from creative4u.data.clean_set import is_photo_cutout, on_canvas

    photo = Image.fromarray(data.coffee()).convert("RGBA").resize((320, 240))
    alpha = Image.new("L", photo.size, 0)
    from PIL import ImageDraw

    ImageDraw.Draw(alpha).ellipse((20, 10, 300, 230), fill=255)
    photo.putalpha(alpha)
    drawing = Image.new("RGBA", (320, 240), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).ellipse((20, 10, 300, 230), fill=(220, 40, 40, 255))
    assert is_photo_cutout(photo) and not is_photo_cutout(drawing)
    assert not is_photo_cutout(photo.resize((160, 120)))  # too small to be shown as a product shot
    for seed in range(6):
        shot = on_canvas(photo, np.random.default_rng(seed), 480)
        arr = np.asarray(shot, np.int16)
        assert max(shot.size) == 480
        # the corners are the plain canvas (one colour per row at most), the object sits inside at its own size
        assert np.abs(arr[0, 0] - arr[0, -1]).max() <= 1 and np.abs(arr[-1, 0] - arr[-1, -1]).max() <= 1
        rows = (np.abs(arr - arr[:, :1]).max(axis=2) > 40).any(axis=1).sum()  # rows the object (and shadow) touch
        assert 200 <= rows <= 280, rows  # the cut-out is 220 rows at its own size; scaled to 80% of the canvas, 352


def test_clip_art_is_drawn_on_white_once_each_and_only_when_large_enough(tmp_path, monkeypatch):
    """The clip-art split reads the library as unpacked: transparent drawings land on white at the asked size, a
    drawing filed under two categories counts once, and thumbnails are left out."""
    from PIL import ImageDraw

    import creative4u.data.clean_set as cs

    base = tmp_path / "root" / "usr/share/openclipart/png"
    for folder in ("signs", "transport"):
        (base / folder).mkdir(parents=True)
    drawing = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).rectangle((100, 80, 500, 370), fill=(30, 90, 200, 255))
    drawing.save(base / "signs" / "bus.png")
    drawing.save(base / "transport" / "bus.png")  # the same file in a second category
    drawing.resize((200, 150)).save(base / "signs" / "thumb.png")
    monkeypatch.setattr(cs, "unpack_deb", lambda package, cache_dir=None: tmp_path / "root")
    items = list(cs.clipart_items(np.random.default_rng(0), 320, tmp_path, count=5))
    assert len(items) == 1 and items[0].style == "clip_art" and items[0].licence == "public-domain"
    pic = np.asarray(items[0].image)
    assert items[0].image.size == (320, 240)
    assert (pic[0, 0] == 255).all() and pic[120, 160].tolist() == [30, 90, 200]  # white canvas, the drawing on it


def test_landscape_photos_are_sampled_with_their_licence_and_never_upscaled(tmp_path, monkeypatch):
    """The landscapes split reads the package as unpacked: ``limit`` files drawn at random, each with the licence its
    copyright paragraph gives, cut to canvases no larger than ``max_side`` (the 720 x 360 originals)."""
    from dataclasses import replace

    from skimage import data

    import creative4u.data.clean_set as cs

    root = tmp_path / "root"
    land = root / "usr/share/games/endless-sky/images/land"
    land.mkdir(parents=True)
    photo = Image.fromarray(data.astronaut()).resize((720, 360))
    for name in ("canyon0", "canyon1", "bwerner-lake", "field0", "field1"):
        photo.save(land / f"{name}.jpg")
    _unpacked_package(monkeypatch, root, "endless-sky-data",
                      "Files: images/land/*\nCopyright: Various\nLicense: public-domain\n\n"
                      "Files: images/land/bwerner*\nCopyright: Berthold Werner\nLicense: CC-BY-SA-3.0\n")
    source = cs.ArtSource("endless-sky-data", ("usr/share/games/endless-sky/images/land/*",),
                          "usr/share/games/endless-sky/", style="photo", limit=3, max_side=360)
    items = list(cs.art_items(np.random.default_rng(0), 640, tmp_path, (source,)))
    assert len(items) == 3 and len({i.key for i in items}) == 3
    assert all(i.style == "photo" and max(i.image.size) <= 360 for i in items)
    every = list(cs.art_items(np.random.default_rng(0), 640, tmp_path, (replace(source, limit=0),)))
    licences = {i.key.rsplit("/", 1)[-1]: i.licence for i in every}
    assert len(every) == 5 and licences["bwerner-lake.jpg"] == "CC-BY-SA-3.0", licences
    assert sum(lic == "public-domain" for lic in licences.values()) == 4


def test_gcompris_pictures_come_out_of_its_resource_bundles_with_the_licence_of_their_source_file(tmp_path,
                                                                                                   monkeypatch):
    """The gcompris split reads pictures out of Qt resource bundles: a photograph shipped as ``.webp`` takes the
    licence the copyright file gives its ``.jpg`` source, and a transparent drawing lands whole on white."""
    import io

    from skimage import data

    import creative4u.data.clean_set as cs
    from creative4u.data.qt_rcc import build_rcc

    def encoded(img: Image.Image, fmt: str) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt)
        return buf.getvalue()

    photo = Image.fromarray(data.astronaut()).resize((800, 600))
    drawing = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    drawing.paste((200, 40, 40, 255), (150, 150, 450, 450))
    root = tmp_path / "root"
    bundles = root / "usr/share/gcompris-qt/rcc"
    bundles.mkdir(parents=True)
    (bundles / "erase.rcc").write_bytes(build_rcc({
        "gcompris/src/activities/erase/resource/bear001.webp": encoded(photo, "WEBP"),
        "gcompris/src/activities/erase/Erase.qml": b"Item {}"}))
    (bundles / "lang.rcc").write_bytes(build_rcc(
        {"gcompris/src/activities/lang/resource/words_sample/apple.webp": encoded(drawing, "WEBP")}, compress=()))
    _unpacked_package(monkeypatch, root, "gcompris-qt-data",
                      "Files: *\nCopyright: The GCompris team\nLicense: GPL-3+\n\n"
                      "Files: src/activities/erase/resource/bear001.jpg\nCopyright: A. Photographer\n"
                      "License: CC-BY-SA-3.0\n")
    photos, _, drawings = cs.GCOMPRIS_SOURCES
    items = list(cs.art_items(np.random.default_rng(0), 320, tmp_path, (photos, drawings)))
    by_name = {i.key.rsplit("/", 1)[-1]: i for i in items}
    assert sorted(by_name) == ["apple.webp", "bear001.webp"]
    bear = by_name["bear001.webp"]
    assert bear.licence == "CC-BY-SA-3.0" and "A. Photographer" in bear.attribution
    assert by_name["apple.webp"].licence == "GPL-3+" and by_name["apple.webp"].style == "clip_art"
    apple = np.asarray(by_name["apple.webp"].image)
    assert apple.shape == (320, 320, 3) and (apple[5, 5] >= 250).all()  # whole drawing, white canvas (not black)
    assert abs(int(apple[160, 160, 0]) - 200) <= 6 and apple[160, 160, 1] < 60
    assert (root / ".rcc/.complete").is_file()  # extracted once, reused by the next build


def test_fresh_split_lays_wesnoth_portraits_on_a_dark_canvas_under_the_packages_licence(tmp_path, monkeypatch):
    """Wesnoth's copyright file is not DEP-5: its pictures take the licence the source names (GPL-2+); a story scene
    is cut to an ad canvas and a portrait with alpha lands whole on the dark navy canvas of a game's ad."""
    from skimage import data

    import creative4u.data.clean_set as cs

    root = tmp_path / "root"
    story = root / "usr/share/games/wesnoth/1.16/data/core/images/story"
    portraits = root / "usr/share/games/wesnoth/1.16/data/core/images/portraits/humans"
    story.mkdir(parents=True)
    portraits.mkdir(parents=True)
    Image.fromarray(data.astronaut()).resize((1280, 960)).save(story / "landscape.jpg")
    figure = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    figure.paste((220, 180, 90, 255), (100, 60, 300, 400))
    figure.save(portraits / "knight.png")
    monkeypatch.setattr(cs, "unpack_deb", lambda package, cache_dir=None: root)  # no copyright file is read
    core, *_, people = cs.FRESH_SOURCES
    found = cs.art_items(np.random.default_rng(0), 640, tmp_path, (core, people))
    items = {i.key.rsplit("/", 1)[-1]: i for i in found}
    assert sorted(items) == ["knight.png", "landscape.jpg"]
    assert {i.licence for i in items.values()} == {"GPL-2+"}
    assert all("Wesnoth" in i.attribution for i in items.values())
    knight = np.asarray(items["knight.png"].image)
    assert knight.shape == (400, 400, 3) and tuple(knight[5, 5]) == (28, 34, 51)  # whole, not upscaled, on navy
    assert tuple(knight[200, 200]) == (220, 180, 90)
    assert max(items["landscape.jpg"].image.size) == 640


def _unpacked_package(monkeypatch, root, package: str, paragraphs: str) -> None:
    """``root`` stands for the unpacked Debian ``package``, with a DEP-5 copyright file holding ``paragraphs``."""
    import creative4u.data.clean_set as cs

    doc = root / "usr/share/doc" / package
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                                   + paragraphs)
    monkeypatch.setattr(cs, "unpack_deb", lambda package, cache_dir=None: root)
