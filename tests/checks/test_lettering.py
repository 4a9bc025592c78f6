"""The lettering map (creative4u.checks.lettering), the text check's second look, and the script that trains it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from creative4u.checks import lettering
from creative4u.checks.text import LEGIBLE_FLOOR, TextOverlay
from creative4u.images import LoadedImage

BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _marked(photo: Image.Image, opacity: float = 0.5, word: str = "VELORISTA", ink_box: list | None = None
            ) -> Image.Image:
    """``photo`` with one big translucent white word across its middle, turned 30 degrees (its ink's bounding box
    appended to ``ink_box``)."""
    im = photo.convert("RGB").resize((384, 288))
    font = ImageFont.truetype(BOLD, 48)
    tile = Image.new("L", (font.getbbox(word)[2] + 8, 64), 0)
    ImageDraw.Draw(tile).text((4, 4), word, font=font, fill=255)
    tile = tile.rotate(30, expand=True)
    ink = Image.new("L", im.size, 0)
    ink.paste(tile, ((im.width - tile.width) // 2, (im.height - tile.height) // 2), tile)
    if ink_box is not None:
        ink_box.extend(ink.getbbox())
    a = np.asarray(ink, np.float32)[..., None] / 255 * opacity
    return Image.fromarray((np.asarray(im, np.float32) * (1 - a) + 255 * a).astype(np.uint8))


def test_the_shipped_map_reads_a_translucent_word_and_not_the_photo_under_it(photo):
    meta = lettering.map_meta()
    assert meta["cut_cells"] > 0 and meta["read_side"] == lettering.READ_SIDE
    clean = lettering.lettering_region(LoadedImage.from_pil(photo.convert("RGB").resize((384, 288))))
    ink: list = []
    marked = lettering.lettering_region(LoadedImage.from_pil(_marked(photo, opacity=0.2, ink_box=ink)))
    assert not clean["found"] and marked["found"] and marked["cells"] > 3 * max(clean["cells"], 1)
    x0, y0, x1, y1 = marked["box"]
    assert x0 >= ink[0] - 12 and y0 >= ink[1] - 12 and x1 <= ink[2] + 12 and y1 <= ink[3] + 12  # on the word
    assert (x1 - x0) * (y1 - y0) > 0.15 * (ink[2] - ink[0]) * (ink[3] - ink[1])  # and a good part of it (a word may
    # split into two regions at its faintest letters: the largest is reported)
    assert marked["map"].shape == (72, 96) and marked["boxes"][0] == marked["box"]


def test_a_small_picture_is_read_enlarged_to_the_maps_side():
    small = np.zeros((60, 120, 3), np.uint8)
    assert lettering.reading_copy(small).shape == (192, 384, 3)
    assert lettering.reading_copy(np.zeros((384, 200, 3), np.uint8)).shape == (384, 200, 3)


def test_the_text_check_scores_a_faint_word_ocr_cannot_read_as_text_and_shows_where(photo):
    img = LoadedImage.from_pil(_marked(photo, opacity=0.2))  # OCR reads nothing of it (asserted below)
    off = TextOverlay(lettering=False).run(img)
    on = TextOverlay().run(img)
    assert off.score == 0.0 and off.values["texts"] == [] and "lettering" not in off.values
    region = on.values["lettering"]
    assert region["found"] and region["cells"] > region["cut"] and "map" not in region
    assert on.score == LEGIBLE_FLOOR and "faint lettering" in on.summary
    assert {"heatmap", "boxes"} <= {ev.kind for ev in on.evidence}
    clean = TextOverlay().run(LoadedImage.from_pil(photo))
    assert clean.score == 0.0 and not clean.values["lettering"]["found"] and clean.summary == "no text found"


def test_a_broken_map_leaves_the_ocr_reading_and_says_why(photo, tmp_path, monkeypatch):
    bad = tmp_path / "lettering_map.onnx"
    bad.write_bytes(b"not an onnx file")
    monkeypatch.setattr(lettering, "MODEL_FILE", bad)
    report = TextOverlay().run(LoadedImage.from_pil(photo))
    assert report.status in ("ok", "flagged") and "lettering map" in report.values["lettering"]["error"]


def test_training_marks_use_no_benchmark_face_and_ink_only_under_the_mask(script_module, benchmark_module):
    tl = script_module("train_lettering_map")
    ets = benchmark_module("eval_text_styles")
    fonts = tl.training_fonts()
    if not fonts:
        pytest.skip("no DejaVu / Liberation face installed: the script cannot draw its marks")
    benchmark_faces = {str(p) for role in (ets.SANS, ets.THIN, ets.SERIF, ets.DISPLAY, ets.CJK, ets.JAPANESE)
                       for p in ets._fonts(role)}
    assert not benchmark_faces & set(fonts)
    rng = np.random.default_rng(3)
    photo = Image.fromarray(rng.integers(60, 200, (192, 256, 3)).astype(np.uint8))
    marked, mask = tl.draw_mark(photo, np.random.default_rng(5), fonts)
    changed = np.abs(np.asarray(marked, int) - np.asarray(photo, int)).max(axis=2) > 0
    assert mask.sum() > 30 and changed[mask > 0].mean() > 0.95  # the letters are drawn where the mask says
    import cv2

    near = cv2.dilate(mask, np.ones((7, 7), np.uint8)) > 0
    assert changed[near].sum() >= 0.8 * changed.sum()  # and hardly elsewhere (faint tails of thin strokes only)


def test_a_trained_step_exports_to_onnx_that_the_check_reads_as_torch_does(script_module, tmp_path):
    torch = pytest.importorskip("torch", reason="training needs torch (the dev install)")
    tl = script_module("train_lettering_map")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 3, tl.CROP, tl.CROP)).astype(np.uint8)
    m = np.zeros((4, tl.CROP, tl.CROP), np.uint8)
    m[:2, 80:110, 40:150] = 1
    net = tl.train(tl.lettering_net(8), [(x, m, 1.0)], steps=2, batch=4)
    model = tmp_path / "map.onnx"
    tl.export(net, model)
    picture = rng.integers(0, 256, (200, 300, 3)).astype(np.uint8)
    onnx_map = lettering.lettering_map(picture, model)
    with torch.no_grad():
        torch_map = torch.sigmoid(net((torch.from_numpy(picture.transpose(2, 0, 1).copy())[None].float() - 128) / 64))
    assert onnx_map.shape == (50, 75)
    np.testing.assert_allclose(onnx_map, torch_map[0, 0].numpy(), atol=1e-5)


def test_textures_skip_chroma_key_walls_blank_and_small_pictures_and_a_quarter_is_kept_out(script_module, tmp_path):
    tl = script_module("train_lettering_map")
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (256, 256, 3)).astype(np.uint8)
    wall = noise.copy()
    wall[:128] = (0, 255, 0)  # Fish Fillets' transparent parts
    pictures = {"texture.png": noise, "wall.png": wall, "blank.png": np.full((256, 256, 3), 90, np.uint8),
                "small.png": noise[:100, :100], "demo_001.png": noise}
    for name, arr in pictures.items():
        Image.fromarray(arr).save(tmp_path / name)
    assert [n for n in pictures if tl._usable_texture(tmp_path / n)] == ["texture.png"]
    assert not tl._usable_texture(tmp_path / "missing.png")
    shares = np.mean([tl.kept_out(tmp_path / f"t{i}.png") for i in range(2000)])
    assert abs(shares - tl.KEPT_OUT_SHARE) < 0.04


def test_archive_textures_are_extracted_once_small_ones_tiled_and_material_maps_skipped(script_module, tmp_path):
    import io
    import zipfile

    tl = script_module("train_lettering_map")
    rng = np.random.default_rng(2)

    def png(side: int) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (side, side, 3)).astype(np.uint8)).save(buf, "PNG")
        return buf.getvalue()

    archive = tmp_path / "usr/share/game/textures.pk3"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("textures/walls/brick.png", png(128))  # tiled 3 x 3 to 384 px
        z.writestr("textures/walls/facade.png", png(512))  # kept as it is
        z.writestr("textures/walls/brick_nm.png", png(128))  # its normal map
        z.writestr("textures/walls/brick.shader", b"{}")
        z.writestr("textures/skies/cloud.png", png(256))  # not under the prefixes asked for
    found = tl.archive_pictures(tmp_path, "usr/share/game/textures.pk3", ("textures/walls/",))
    assert [p.name for p in found] == ["brick.png", "facade.png"]
    with Image.open(found[0]) as a, Image.open(found[1]) as b:
        assert a.size == (384, 384) and b.size == (512, 512)
        tile = np.asarray(a)
        np.testing.assert_array_equal(tile[:128, :128], tile[256:, 128:256])  # the same texture repeated
    archive.unlink()  # a second call reads the extracted files, not the archive
    assert tl.archive_pictures(tmp_path, "usr/share/game/textures.pk3", ("textures/walls/",)) == found
    normal = np.zeros((256, 256, 3), np.uint8) + np.array([128, 128, 255], np.uint8)
    normal[::7] = (120, 140, 250)  # a normal map with some relief, named like a picture
    Image.fromarray(normal).save(tmp_path / "panel.png")
    assert not tl._usable_texture(tmp_path / "panel.png") and tl._usable_texture(found[1])


def test_textures_ocr_reads_text_on_are_left_out_and_the_reading_is_remembered(script_module, photo, tmp_path):
    tl = script_module("train_lettering_map")
    plain = tmp_path / "plain.png"
    photo.convert("RGB").resize((384, 288)).save(plain)
    sign = tmp_path / "sign.png"
    im = Image.open(plain).convert("RGB")
    draw = ImageDraw.Draw(im)
    draw.rectangle((40, 100, 344, 190), fill="white")
    draw.text((56, 112), "HOTEL", font=ImageFont.truetype(BOLD, 64), fill="black")
    im.save(sign)
    memo = tmp_path / "memo.json"
    assert tl.text_free([plain, sign], memo) == [plain]
    sign.unlink()  # read from the memo, not the file
    assert tl.text_free([plain, sign], memo) == [plain]
