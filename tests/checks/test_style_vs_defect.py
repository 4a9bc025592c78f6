"""Issue 14: checks that tell a defect from a style, the compression check, and per-client operating points."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from creative4u.checks import get_check
from creative4u.checks.profile import load_profile
from creative4u.checks.suite import CheckSuite
from creative4u.data.styled import grade_photo, render_style
from creative4u.images import load_image


def _load(pil: Image.Image, quality: int | None = 92) -> object:
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=quality) if quality else pil.save(buf, "PNG")
    return load_image(buf.getvalue())


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut()).resize((384, 384))


@pytest.mark.parametrize("quality", [6, 12, 20])
def test_compression_flags_heavy_jpeg_even_when_resaved_losslessly(astronaut, quality):
    buf = io.BytesIO()
    astronaut.save(buf, "JPEG", quality=quality)
    decoded = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    for img in (load_image(buf.getvalue()), _load(decoded, None), _load(decoded, 95)):
        m = get_check("compression").measure(img)
        assert m.score > 0.5, m.summary
        assert m.values["pixel_quality"] <= 30 and "quality" in m.summary


def test_compression_leaves_good_jpegs_and_smooth_designs_alone(astronaut):
    rng = np.random.default_rng(3)
    for pil in (astronaut, render_style("gradient", rng, (384, 384)), render_style("flat_illustration", rng)):
        for q in (85, 95):
            m = get_check("compression").measure(_load(pil, q))
            assert m.score < 0.5, (q, m.summary)


def test_smooth_gradient_is_not_blurred_but_blurred_photo_is(astronaut):
    rng = np.random.default_rng(0)
    sharp = get_check("sharpness")
    for _ in range(3):
        m = sharp.measure(_load(render_style("gradient", rng, (384, 384))))
        assert m.score < 0.5, m.summary
    assert sharp.measure(_load(astronaut.filter(ImageFilter.GaussianBlur(4)))).score > 0.5


def test_saturated_dark_blue_art_is_not_underexposed():
    art = np.zeros((256, 256, 3), np.uint8)
    art[..., 2] = np.linspace(120, 255, 256, dtype=np.uint8)[None, :]  # deep blue, fully lit in its channel
    m = get_check("exposure").measure(_load(Image.fromarray(art), None))
    assert m.values["under_score"] < 0.5, m.summary


def test_deliberate_monochrome_grades_are_recognised(astronaut):
    rng = np.random.default_rng(1)
    for grade, kind in (("mono", "black-and-white"), ("sepia", "single-tint monochrome")):
        m = get_check("colourfulness").measure(_load(grade_photo(astronaut, grade, rng), None))
        assert m.values["monochrome"] == kind and m.score < 0.5


def test_soft_focus_wallpaper_with_stars_is_a_style_but_its_blurred_copy_is_not():
    """Aurora / nebula art: every edge smeared far beyond a blurred photo's, crisp stars on top."""
    rng = np.random.default_rng(3)
    field = rng.uniform(0, 255, (8, 8, 3)).astype(np.uint8)
    art = np.asarray(Image.fromarray(field).resize((512, 512), Image.Resampling.BICUBIC), np.float32)
    art = cv2_blur(art, 24.0)
    ys, xs = rng.integers(8, 504, 300), rng.integers(8, 504, 300)
    art[ys, xs] = 255.0  # stars: single bright pixels
    clean = Image.fromarray(np.clip(art, 0, 255).astype(np.uint8))
    soft = get_check("sharpness").measure(_load(clean, None))
    assert soft.score < 0.5 and soft.values["crisp_points"] >= 60, soft.summary
    assert "soft-focus design" in soft.summary
    blurred = get_check("sharpness").measure(_load(clean.filter(ImageFilter.GaussianBlur(3)), None))
    assert blurred.score > 0.766, blurred.summary


@pytest.mark.parametrize("sigma", [3, 8, 12])
def test_heavy_blur_of_a_photo_stays_below_the_soft_rendering_reading(astronaut, sigma):
    """The soft-design rule must not swallow heavy blur: the edge estimator saturates near 7 px on photos."""
    m = get_check("sharpness").measure(_load(astronaut.resize((512, 512)).filter(ImageFilter.GaussianBlur(sigma))))
    assert m.score > 0.766 and m.values["blur_sigma_px"] < 8.0, m.summary


def test_airbrushed_glow_is_a_soft_rendering_not_blur():
    """A dark glow on a light canvas: its ramp reads ~26 px, beyond anything a blurred photo reads."""
    yy, xx = np.mgrid[0:512, 0:512].astype(np.float32)
    glow = 235 - 215 * np.exp(-((xx - 256) ** 2 + (yy - 300) ** 2) / (2 * 60.0**2))
    img = Image.fromarray(np.stack([glow, glow * 0.95, glow * 0.8], axis=2).astype(np.uint8))
    m = get_check("sharpness").measure(_load(img))
    assert m.score < 0.5 and m.values["blur_sigma_px"] >= 8.0 and "soft-focus design" in m.summary, m.summary


def cv2_blur(arr: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(arr, (0, 0), sigma)


def test_plain_design_canvas_is_not_a_frame_but_a_pillarbox_is(astronaut):
    """A flat canvas meets its shapes on short stretches; a frame's inner edge runs along the whole side."""
    from PIL import ImageDraw

    design = Image.new("RGB", (384, 384), (236, 226, 246))
    draw = ImageDraw.Draw(design)
    draw.rectangle((30, 300, 80, 360), fill=(235, 195, 100))  # a square near the corner, a title near the top
    draw.rectangle((150, 40, 240, 70), fill=(40, 40, 60))
    draw.ellipse((120, 140, 220, 260), fill=(250, 240, 190))
    plain = get_check("border").measure(_load(design, None))
    assert plain.score < 0.5, plain.summary
    assert min(plain.values[f"band_{s}_span"] for s in ("left", "right", "bottom")) < 0.3
    boxed = Image.new("RGB", (384, 384), (236, 226, 246))
    boxed.paste(astronaut.resize((256, 384)), (64, 0))
    framed = get_check("border").measure(_load(boxed))
    assert framed.score > 0.9 and framed.values["band_left_span"] > 0.9, framed.summary


def test_profile_operating_point_picks_a_threshold_per_client(tmp_path):
    client = tmp_path / "client.yaml"
    client.write_text("name: client\nextends: default\noperating_point: strict_client\nchecks:\n"
                      "  sharpness: {operating_points: {strict_client: 0.9, lenient: 0.3}}\n"
                      "  border: {operating_points: {strict_client: 0.8}, operating_point: strict_client}\n")
    suite = CheckSuite(client)
    assert suite.checks["sharpness"].threshold == 0.9 and suite.checks["border"].threshold == 0.8
    assert suite.checks["exposure"].threshold == load_profile("default").checks["exposure"].threshold
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nextends: default\nchecks:\n  sharpness: {operating_point: nowhere}\n")
    with pytest.raises(Exception, match="nowhere"):
        load_profile(bad)


def test_white_canvas_is_a_style_but_clipped_texture_is_overexposure(astronaut):
    """Exposure v9: a designed white canvas is flat (nothing to lose); pushing a photo +2 stops clips its texture."""
    from creative4u.data.degrade import DEGRADATIONS

    exposure = get_check("exposure")
    rng = np.random.default_rng(5)
    for _ in range(3):
        m = exposure.measure(_load(render_style("product_on_white", rng, (384, 384)), None))
        assert m.values["over_score"] < 0.5, m.summary
    assert exposure.measure(_load(astronaut)).score < 0.5
    pushed = DEGRADATIONS["overexposed"](astronaut, np.random.default_rng(0), 1.0)[0]
    m = exposure.measure(_load(pushed))
    assert m.score > 0.5 and m.values["clipped_texture"] > 0.05, m.summary
    assert m.summary.startswith("overexposed") and "texture clipped at 255" in m.summary


def test_the_edges_of_white_type_on_colour_are_not_clipped_texture():
    """Exposure v22: a clipped pixel beside a step of more than 96 levels is the edge of a white shape, not detail that
    light wiped out (v21 read 7% of this banner as clipped texture)."""
    from creative4u.checks.exposure import clipped_texture

    banner = Image.new("RGB", (256, 256), (20, 40, 110))
    draw = ImageDraw.Draw(banner)
    draw.text((20, 60), "SALE -30%", fill="white", font=ImageFont.load_default(size=40))
    draw.rounded_rectangle((40, 150, 220, 200), 12, fill="white")
    rgb = np.asarray(Image.open(io.BytesIO(_load(banner, 85).data)).convert("RGB"))
    reading = clipped_texture(rgb)
    assert reading["clipped_texture"] < 0.02 and reading["flat_white"] > 0.05, reading
    assert get_check("exposure").measure(_load(banner, 85)).values["over_score"] < 0.5


def test_overexposure_is_judged_on_the_content_not_its_white_canvas(astronaut):
    """Exposure v23: the clipped share and the tones are read on the pixels that are not a flat white canvas, so a
    photo set in a white circle (no band the framing box could take out) reads as the photo does on its own."""
    from creative4u.data.degrade import _exposure

    def in_white_circle(photo: Image.Image) -> Image.Image:
        canvas, mask = Image.new("RGB", (384, 384), "white"), Image.new("L", (384, 384), 0)
        ImageDraw.Draw(mask).ellipse((0, 0, 383, 383), fill=255)
        canvas.paste(photo, (0, 0), mask)
        return canvas

    exposure = get_check("exposure")
    alone, framed = exposure.measure(_load(astronaut)), exposure.measure(_load(in_white_circle(astronaut)))
    assert framed.values["over_score"] < 0.5, framed.summary
    assert framed.values["flat_white"] > 0.1 and framed.values["read_on"] == "content"
    for tone in ("mean_tone", "saturation"):  # the white corners do not lift the tones or wash the colours out
        assert abs(framed.values[tone] - alone.values[tone]) < 0.05, (tone, framed.values, alone.values)
    pushed = exposure.measure(_load(in_white_circle(_exposure(astronaut, 1.5))))
    assert pushed.values["over_score"] > 0.5, pushed.summary
    assert pushed.values["content_clipped"] > 1.15 * pushed.values["clipped_texture"], pushed.values
    assert "of the content is texture clipped at 255" in pushed.summary
    assert "flat white around it" in pushed.summary


def test_a_flat_design_on_white_is_read_as_a_whole_not_on_its_shapes():
    """Exposure v23: the white within 2 px of flat tiles on a white canvas varies (anti-aliasing, JPEG ringing), which
    is 6-8% of the tiles read on their own; a flat design (under half its pixels textured) keeps the whole-picture
    reading, and reads fine."""
    rng = np.random.default_rng(1)
    grid = Image.new("RGB", (900, 900), "white")
    draw = ImageDraw.Draw(grid)
    for k in range(16):
        x, y = 45 + 225 * (k % 4), 45 + 225 * (k // 4)
        draw.rounded_rectangle((x, y, x + 135, y + 135), 22, fill=tuple(int(c) for c in rng.integers(0, 200, 3)))
    m = get_check("exposure").measure(_load(grid, 88))
    assert m.values["read_on"] == "picture" and m.values["textured_content"] < 0.5, m.values
    assert m.values["content_clipped"] > 1.5 * m.values["clipped_texture"] > 0.01, m.values  # the halo is there
    assert m.values["over_score"] < 0.5 and "a flat design, read as a whole" in m.summary, m.summary


def test_washed_out_brightenings_read_over_from_the_tones(astronaut):
    """Exposure v22: an offset (a brightness slider) or an HSV value lift (ImageNet-C's brightness) raises the darkest
    tones and washes colours out as well as clipping; the logit reads the tones with the clipped texture."""
    import cv2

    exposure = get_check("exposure")
    clean = exposure.measure(_load(astronaut))
    offset = Image.fromarray(np.clip(np.asarray(astronaut, np.float32) + 60, 0, 255).astype(np.uint8))
    hsv = cv2.cvtColor(np.asarray(astronaut), cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    hsv[..., 2] = np.clip(hsv[..., 2] + 0.3 * 255, 0, 255)
    lifted = Image.fromarray(cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB_FULL))
    assert clean.values["over_score"] < 0.5, clean.summary
    for brighter in (offset, lifted):
        m = exposure.measure(_load(brighter))
        assert m.values["over_score"] > 0.5 and m.summary.startswith("overexposed"), m.summary
        # The tone logit flags it on its own, not only the heavy-clipping backstop.
        assert m.values["clip_logit"] > type(exposure).OVER_CENTRE > clean.values["clip_logit"], m.values
    assert exposure.measure(_load(offset)).values["darkest_tone"] > clean.values["darkest_tone"] + 0.15


def test_an_all_white_picture_is_blown():
    m = get_check("exposure").measure(_load(Image.new("RGB", (256, 256), (255, 255, 255)), None))
    assert m.score == 1.0 and "flat white" in m.summary


@pytest.mark.parametrize("canvas", ["plain", "gradient"])
def test_a_pale_frame_around_a_pale_product_canvas_is_a_frame_but_the_canvas_is_not(canvas):
    """A light grey letterbox (235) around a product on an off-white canvas (248) is within the coarse band colour
    tolerance of the canvas; the fine look finds its abrupt inner edge. The canvas alone, plain or a soft vertical
    gradient (which drifts past the fine tolerance without a step), is no frame."""
    from PIL import ImageDraw
    from skimage import data

    cut = Image.fromarray(data.coffee()).convert("RGBA").resize((260, 200))
    mask = Image.new("L", cut.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, 259, 199), fill=255)  # a cut-out object, not a pasted rectangle
    cut.putalpha(mask)
    top, bottom = ((248, 248, 246), (248, 248, 246)) if canvas == "plain" else ((246, 238, 222), (222, 234, 246))
    ramp = np.linspace(0.0, 1.0, 480, dtype=np.float32)[:, None, None]
    bg = np.asarray(top, np.float32) * (1 - ramp) + np.asarray(bottom, np.float32) * ramp
    shot = Image.fromarray(np.repeat(bg, 480, axis=1).round().astype(np.uint8))
    shot.paste(cut, (110, 140), cut)
    border = get_check("border")
    assert border.measure(_load(shot)).score < 0.5
    framed = Image.new("RGB", (480, 480), (235, 235, 235))
    framed.paste(shot.resize((480, 360)), (0, 60))
    m = border.measure(_load(framed))
    assert m.score >= load_profile("default").threshold_of("border"), m.summary
    assert m.values["band_top_px"] == pytest.approx(60, abs=3)
    assert m.values["band_bottom_px"] == pytest.approx(60, abs=3)


def test_a_moderate_jpeg_of_a_smooth_graphic_is_not_read_as_heavy_compression():
    """A q60 save of a rendered gradient: its few clustered DCT values fit a comb 3x the real step at one position
    ([10, 29, 19]); the readings disagree, so the smallest (the q60 lattice) is the one the quality is read from."""
    from creative4u.checks.compression import consistent_steps

    img = _load(render_style("gradient", np.random.default_rng(1), (512, 512)), quality=60)
    m = get_check("compression").measure(img)
    assert max(m.values["dct_steps"]) > 2 * min(s for s in m.values["dct_steps"] if s > 1)  # the raw readings disagree
    assert consistent_steps(m.values["dct_steps"]) == [min(m.values["dct_steps"])] * 3
    assert m.values["pixel_quality"] >= 50 and m.score < load_profile("default").threshold_of("compression")


def test_texture_is_not_grain_but_grain_on_a_photo_is():
    """skimage's grass reads ~8 grey levels in its flattest tiles, all of it texture: halving the picture keeps the
    reading, where grain would halve. The same photos with added grain are flagged."""
    from skimage import data

    noise = get_check("noise")
    threshold = load_profile("default").threshold_of("noise")
    for name in ("grass", "coffee"):
        photo = Image.fromarray(getattr(data, name)()).convert("RGB")
        clean = noise.measure(_load(photo, None))
        assert clean.score < threshold and clean.values["noise_sigma"] < 1.0, (name, clean.values)
        grainy = np.asarray(photo, np.float32) + np.random.default_rng(0).normal(0, 12, (photo.height, photo.width, 1))
        noisy = noise.measure(_load(Image.fromarray(np.clip(grainy, 0, 255).astype(np.uint8)), None))
        assert noisy.score >= threshold and noisy.values["noise_sigma"] > 6.0, (name, noisy.values)
    assert clean.values["flat_area_sigma"] >= 0 and "texture" in noise.measure(
        _load(Image.fromarray(data.grass()).convert("RGB"), None)).summary


def test_two_coarse_step_readings_without_the_third_are_chance():
    """Open Clip Art's stairs pictogram (a PNG, never a JPEG) read [112, 99, 1] and a two-colour flag [110, 1, 115]:
    a flat graphic's edges run one way and repeat the same few DCT values, which a coarse comb fits by chance. A JPEG
    that coarse quantises all three low frequencies; a moderate agreeing pair is a real re-saved JPEG."""
    from creative4u.checks.compression import consistent_steps, quality_from_steps

    assert consistent_steps([112, 99, 1]) == consistent_steps([110, 1, 115]) == [1, 1, 1]
    assert quality_from_steps(consistent_steps([1, 39, 39])) < 40  # still read as heavy compression
    assert quality_from_steps(consistent_steps([107, 96, 120])) < 10  # all three read: a real q10 JPEG


def test_the_canvas_around_a_shadowed_or_off_centre_subject_is_not_a_frame(astronaut):
    """A flag with a drop shadow leaves plain bands on two adjacent sides; an object placed off-centre leaves
    uneven ones on both axes (120 px above, 40 below). Neither is a frame; an even frame around the same picture is."""
    from PIL import ImageDraw

    border, threshold = get_check("border"), load_profile("default").threshold_of("border")
    flag = Image.new("RGB", (480, 360), "white")
    draw = ImageDraw.Draw(flag)
    draw.rectangle((14, 14, 449, 329), fill=(150, 150, 150))  # the shadow, offset down and right
    flag.paste(astronaut.resize((430, 310)), (0, 0))
    shadowed = border.measure(_load(flag, None))
    assert shadowed.score < threshold and "not an even frame" in shadowed.summary, shadowed.summary
    off_centre = Image.new("RGB", (480, 480), "white")
    off_centre.paste(astronaut.resize((360, 320)), (100, 120))  # 100 px left, 20 right; 120 above, 40 below
    uneven = border.measure(_load(off_centre, None))
    assert uneven.score < threshold, uneven.summary
    assert uneven.values["band_top_bottom_symmetry"] == 0.0
    even = Image.new("RGB", (480, 480), "white")
    even.paste(astronaut.resize((400, 400)), (40, 40))
    assert border.measure(_load(even, None)).score >= threshold



def test_a_rounded_sign_or_card_on_a_plain_canvas_is_not_a_frame_but_the_square_picture_is(astronaut):
    """A pictogram's rounded square, or a photo card with rounded corners, sits on an even white margin like a
    framed picture, but its corners are canvas; the same picture pasted square is a frame (the degradation)."""
    from PIL import ImageDraw

    border, threshold = get_check("border"), load_profile("default").threshold_of("border")
    sign = Image.new("RGB", (400, 400), "white")
    draw = ImageDraw.Draw(sign)
    draw.rounded_rectangle((24, 24, 375, 375), radius=40, fill="black")
    draw.polygon([(90, 200), (200, 100), (200, 160), (310, 160), (310, 240), (200, 240), (200, 300)], fill="white")
    rounded = border.measure(_load(sign, None))
    assert rounded.score < 0.5 and rounded.values["open_corners"] == 4, rounded.summary
    assert "rounded or open corners" in rounded.summary
    mask = Image.new("L", (352, 352), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, 351, 351), radius=36, fill=255)
    card, square = Image.new("RGB", (400, 400), "white"), Image.new("RGB", (400, 400), "white")
    card.paste(astronaut.resize((352, 352)), (24, 24), mask)
    square.paste(astronaut.resize((352, 352)), (24, 24))
    assert border.measure(_load(card, None)).score < 0.5
    framed = border.measure(_load(square, None))
    assert framed.score >= threshold and framed.values["open_corners"] <= 1, framed.summary


def test_bars_of_two_paints_are_a_flag_not_a_pillarbox(astronaut):
    """A tricolour flag's outer stripes are even, straight-edged bands on opposite sides, but of two paints; a
    pillarbox or a frame is one paint on both sides."""
    border, threshold = get_check("border"), load_profile("default").threshold_of("border")
    green, red, scores = (0, 140, 70), (205, 40, 50), {}
    for name, (left, right) in {"flag": (green, red), "pillarbox": (green, green)}.items():
        canvas = Image.new("RGB", (480, 320), right)
        canvas.paste(Image.new("RGB", (160, 320), left), (0, 0))
        canvas.paste(astronaut.resize((160, 320)), (160, 0))
        m = border.measure(_load(canvas, None))
        scores[name] = (m.score, m.values["band_left_right_same_paint"])
    assert scores["flag"][0] < 0.5 and scores["flag"][1] == 0.0, scores
    assert scores["pillarbox"][0] >= threshold and scores["pillarbox"][1] == 1.0, scores


def _small_drawing_on_white(seed: int, noisy_patch: bool = False) -> Image.Image:
    """A glyph of anti-aliased strokes in a 60 px box on a blank 453 x 640 white canvas (a clip-art character)."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    big = Image.new("RGB", (453 * 4, 640 * 4), "white")
    draw = ImageDraw.Draw(big)
    for _ in range(14):
        x0, y0 = 800 + int(rng.integers(0, 200)), 1100 + int(rng.integers(0, 200))
        draw.line((x0, y0, x0 + int(rng.integers(-120, 120)), y0 + int(rng.integers(-120, 120))), fill=(20, 50, 30),
                  width=14)
    small = np.asarray(big.resize((453, 640), Image.Resampling.LANCZOS), np.float32).copy()
    if noisy_patch:  # a grey photo-like panel over 15% of the canvas, with sensor grain
        small[40:290, 40:210] = 140 + rng.normal(0, 14, (250, 170, 1))
    return Image.fromarray(np.clip(small, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("seed", [2, 3])
def test_a_small_drawing_on_a_blank_canvas_is_not_noise(seed):
    """The few tiles a small drawing leaves unclipped on a white canvas hold its strokes' edges, not a flat area
    (they read 6-8 grey levels of "grain"); a grainy panel over 15% of the same canvas is still noise."""
    noise, threshold = get_check("noise"), load_profile("default").threshold_of("noise")
    clean = noise.measure(_load(_small_drawing_on_white(seed)))
    assert clean.score < 0.5 and clean.values["flat_area_sigma"] < 1.0, clean.summary
    assert noise.measure(_load(_small_drawing_on_white(seed, noisy_patch=True))).score >= threshold


def _cross_flag(rng: np.random.Generator) -> Image.Image:
    """A Nordic-cross flag drawn large in random colours and shrunk to 640 px (anti-aliased straight edges)."""
    from PIL import ImageDraw

    w = int(rng.integers(900, 2400))
    h = int(w * rng.uniform(0.55, 0.75))
    colours = [tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(3)]
    flag = Image.new("RGB", (w, h), colours[0])
    draw = ImageDraw.Draw(flag)
    for colour, width in ((colours[1], int(h * rng.uniform(0.1, 0.25))), (colours[2], int(h * 0.06))):
        x0 = int(w * 0.33) - width // 2
        draw.rectangle((x0, 0, x0 + width, h), fill=colour)
        draw.rectangle((0, h // 2 - width // 2, w, h // 2 + width // 2), fill=colour)
    return flag.resize((640, round(640 * h / w)), Image.Resampling.LANCZOS)


def test_flags_of_straight_bands_saved_at_high_quality_are_not_heavy_compression():
    """Edges that all run straight across or down repeat a few DCT values at (0, 1) and (1, 0) and leave (1, 1)
    empty; a comb fits them by chance (about half of such flags read as quality 7-30 before). The file's own table
    (q90-q95) and the missing diagonal reading say it is not a heavy JPEG."""
    from creative4u.data.clean_set import encode_jpeg

    rng = np.random.default_rng(0)
    readings = []
    for _ in range(12):
        m = get_check("compression").measure(load_image(encode_jpeg(_cross_flag(rng), int(rng.choice([90, 95])))))
        readings.append((m.score, m.values["dct_steps"]))
    assert all(score < 0.5 for score, _ in readings), readings
    assert sum(steps[2] <= 1 < min(steps[:2]) for _, steps in readings) >= 3  # the chance pair was read, and set aside

def test_a_smooth_picture_crushed_at_q6_and_resaved_losslessly_is_heavy_compression():
    """At quality <= 6 every low AC coefficient on the block grid of a smooth picture goes to zero while the block
    edges fill the shifted grid: the step readings all sit at the top of the range. That is the coarsest
    quantisation there is, not a missing reading."""
    from creative4u.checks.compression import consistent_steps

    smooth = render_style("gradient", np.random.default_rng(4), (512, 512))
    buf = io.BytesIO()
    smooth.save(buf, "JPEG", quality=6)
    crushed = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    m = get_check("compression").measure(_load(crushed, None))
    assert sum(s >= 120 for s in m.values["dct_steps"]) >= 2 and min(m.values["dct_steps"]) > 1, m.values
    assert m.score >= load_profile("default").threshold_of("compression"), m.summary
    assert consistent_steps([120, 1, 120]) == [1, 1, 1]  # one position unread: no evidence
    assert get_check("compression").measure(_load(smooth, None)).score < 0.5  # the clean PNG


@pytest.mark.parametrize("canvas", ["white", "black"])
def test_a_collage_on_a_plain_canvas_is_a_layout_but_one_picture_on_the_same_margin_is_a_frame(photos, canvas):
    """A 2 x 2 grid of photos with 12 px gutters and the same outer margin reads as a frame by its bands alone; the
    gutters that cross the whole box between straight panel edges say it is a layout. One photo pasted on the same
    margin stays a frame, and so does the grid's margin around a single panel-less picture."""
    border, threshold = get_check("border"), load_profile("default").threshold_of("border")
    pics = [photos[n] for n in ("coffee", "chelsea", "astronaut", "rocket")]
    grid, single = Image.new("RGB", (640, 640), canvas), Image.new("RGB", (640, 640), canvas)
    for i, pic in enumerate(pics):
        grid.paste(pic.resize((302, 302)), (12 + (i % 2) * 314, 12 + (i // 2) * 314))
    single.paste(pics[0].resize((616, 616)), (12, 12))
    layout = border.measure(_load(grid))
    assert layout.score < 0.5 and layout.values["layout_gutters"] == 2, layout.summary
    assert "layout of panels" in layout.summary
    framed = border.measure(_load(single))
    assert framed.score >= threshold and framed.values["layout_gutters"] == 0, framed.summary


def _card_content(draw: ImageDraw.ImageDraw, pic: Image.Image, page: Image.Image, x0: int, y0: int) -> None:
    """A 560 x 420 product photo, its title, a price and a button stacked on a card from (x0, y0)."""
    page.paste(pic.resize((560, 420)), (x0, y0))
    draw.text((x0, y0 + 450), "Organic cappuccino 250 g", fill=(30, 30, 30), font=ImageFont.load_default(size=34))
    draw.text((x0, y0 + 510), "$12.90", fill=(150, 40, 40), font=ImageFont.load_default(size=44))
    draw.rounded_rectangle((x0, y0 + 590, x0 + 560, y0 + 660), 16, fill=(200, 60, 40))


def test_a_pale_card_on_a_canvas_of_nearly_its_paint_is_a_layout_but_a_pale_frame_is_a_frame(photos):
    """A shop's white product card (255, a 2 px outline) on a light grey page (246): within 14 grey levels of each
    other, so the band ran through the card to its photo and button, an even frame (a border veto at 0.999 before
    border v17). The page's own paint ends on the card's edge, inset from both ends of every side. The same 246 band
    pasted round a picture whose white runs the whole side is a frame still. (The corners, rounded by 24 px, are read
    at the picture's own size; a radius under ~10 px, or square corners, tell a card from a frame by nothing.)"""
    page = Image.new("RGB", (900, 900), (246, 246, 246))
    draw = ImageDraw.Draw(page)
    draw.rounded_rectangle((120, 80, 780, 820), 24, fill=(255, 255, 255), outline=(220, 220, 220), width=2)
    _card_content(draw, photos["coffee"], page, 170, 130)
    border, threshold = get_check("border"), load_profile("default").threshold_of("border")
    card = border.measure(_load(page))
    assert card.score < 0.5 and card.values["inset_card"], card.summary
    assert "card with rounded corners" in card.summary
    darker = Image.fromarray(np.where(np.asarray(page) == 246, 228, np.asarray(page)).astype(np.uint8))
    on_grey = border.measure(_load(darker))  # the page's band ends on the card itself: its corners say card
    assert on_grey.score < 0.5 and on_grey.values["inset_card"], on_grey.summary
    framed = Image.new("RGB", (900, 900), (246, 246, 246))
    inner = Image.new("RGB", (700, 760), (255, 255, 255))
    _card_content(ImageDraw.Draw(inner), photos["coffee"], inner, 70, 60)
    framed.paste(inner, (100, 70))
    m = border.measure(_load(framed))
    assert m.score >= threshold and not m.values["inset_card"], m.summary


def test_a_grid_of_icons_with_wide_gutters_is_a_layout():
    """Nine rounded icons on white, 120 px apart (13% of the box): the gutters are wider than a collage's but still
    cross the whole box between straight panel edges (a border veto at 0.994 before border v16)."""
    icons = Image.new("RGB", (900, 900), "white")
    draw = ImageDraw.Draw(icons)
    rng = np.random.default_rng(1)
    for i in range(9):
        cx, cy = 150 + 300 * (i % 3), 150 + 300 * (i // 3)
        paint = tuple(int(c) for c in rng.integers(0, 200, 3))
        draw.rounded_rectangle((cx - 90, cy - 90, cx + 90, cy + 90), 30, fill=paint)
        draw.ellipse((cx - 40, cy - 40, cx + 40, cy + 40), fill="white")
    m = get_check("border").measure(_load(icons))
    assert m.score < 0.5 and m.values["layout_gutters"] >= 2, m.summary


def test_a_grid_of_flat_icons_saved_at_q88_is_not_heavy_compression():
    """Flat shapes repeat the same few DCT values on their edges, and a JPEG save adds many 1-3 wide ones, which
    made a comb fit them, and each of these q88 files read a pixel quality of 8-26 (a compression veto) before v9."""
    for seed, frac in ((0, 0.5), (2, 0.5), (5, 0.5), (5, 0.6), (5, 0.7)):
        rng = np.random.default_rng(seed)
        icons = Image.new("RGB", (900, 900), "white")
        draw = ImageDraw.Draw(icons)
        size = int(450 * frac)
        for k in range(4):
            cx, cy = 225 + 450 * (k % 2), 225 + 450 * (k // 2)
            box = (cx - size // 2, cy - size // 2, cx + size // 2, cy + size // 2)
            draw.rounded_rectangle(box, size // 6, fill=tuple(int(c) for c in rng.integers(0, 200, 3)))
        m = get_check("compression").measure(_load(icons, quality=88))
        assert m.values["pixel_quality"] >= 50 and m.score < 0.5, (seed, frac, m.summary)


def test_a_blown_sky_above_a_horizon_is_overexposed_but_a_white_header_band_is_a_design(photos):
    """Exposure v21 (pass 14): flat white meeting only part of the frame's edge, above a photo's irregular horizon,
    is a sky clipped at 255; the same white above a straight-edged photo (a header band with type) is a layout, and
    a product on a white canvas (cut by the frame or not) is the canvas style."""
    exposure = get_check("exposure")
    photo = photos["coffee"].resize((512, 384))
    land = np.asarray(photo.resize((512, 640)), np.float32).copy()
    xs = np.arange(512)
    horizon = (0.45 + 0.05 * np.sin(xs / 37) + 0.03 * np.sin(xs / 11)) * 640
    land[np.arange(640)[:, None] < horizon[None, :]] = 255
    blown = exposure.measure(_load(Image.fromarray(land.astype(np.uint8))))
    assert blown.score > 0.5 and blown.values["blown_region"], blown.summary
    assert "blown to flat white" in blown.summary and "not a canvas" in blown.summary

    header = Image.new("RGB", (512, 640), "white")
    header.paste(photo, (0, 256))
    ImageDraw.Draw(header).text((30, 60), "Fresh roast", fill=(0, 0, 0), font=ImageFont.load_default(size=64))
    on_white = Image.new("RGB", (640, 640), "white")
    on_white.paste(photo.resize((420, 315)), (110, 360))
    for design in (header, on_white):
        m = exposure.measure(_load(design))
        assert m.values["over_score"] < 0.5 and not m.values["blown_region"], m.summary


def _cut_out(photo: Image.Image, feather: float) -> bytes:
    """The photo cut out in an ellipse with an alpha matte feathered by ``feather`` px (a background remover's soft
    edge), saved as an RGBA PNG: it is shown on white."""
    w, h = photo.size
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).ellipse((w * 0.1, h * 0.06, w * 0.9, h * 0.94), fill=255)
    cut = photo.convert("RGBA")
    cut.putalpha(mask.filter(ImageFilter.GaussianBlur(feather)) if feather else mask)
    buf = io.BytesIO()
    cut.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("feather", [2, 3])
def test_a_cut_out_with_a_feathered_matte_is_sharp_but_a_blurred_cut_out_is_not(feather):
    """The feathered outline is the strongest, longest edge of a product cut-out on white; read as focus it made a
    crisp photo "motion-blurred" (sharpness v9 vetoed this rocket). The subject's own edges decide now, and a blurred
    photo cut out the same way is soft inside too."""
    from skimage import data

    rocket = Image.fromarray(data.rocket())
    check = get_check("sharpness")
    crisp = check.measure(load_image(_cut_out(rocket, feather)))
    blurred = check.measure(load_image(_cut_out(rocket.filter(ImageFilter.GaussianBlur(3)), feather)))
    assert crisp.score < 0.5 and crisp.values["outline_edges_left_out"] > 50
    assert "without the softer outline" in crisp.summary and "cut-out's matte" in crisp.summary
    assert blurred.score >= 0.9 and blurred.summary.startswith("blurred")


def test_a_transparent_margin_is_a_frame_and_the_summary_says_it_is_the_files_transparency(photos):
    """A picture pasted on a transparent canvas is shown on white (or the slot's paint): the same frame as a white one,
    and the summary names the cause, which the file's owner cannot see in their editor."""
    photo, pad = photos["coffee"], 40
    clear = Image.new("RGBA", (photo.width + 2 * pad, photo.height + 2 * pad), (0, 0, 0, 0))
    clear.paste(photo.convert("RGBA"), (pad, pad))
    white = Image.new("RGB", clear.size, "white")
    white.paste(photo, (pad, pad))
    check = get_check("border")
    on_clear, on_white = (check.measure(load_image(_png(im))) for im in (clear, white))
    assert on_clear.score >= 0.9 and on_white.score >= 0.9
    assert on_clear.values["transparent_margin"] and "transparent margin" in on_clear.summary
    assert "transparent_margin" not in on_white.values and "transparent" not in on_white.summary


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("factor", [8, 16])
def test_pixel_art_enlarged_by_repeating_pixels_is_neither_compressed_nor_blurred(photos, factor):
    """A 32-colour sprite of 64 px shown 8x or 16x: each 8x8 block of the file is one flat colour, as JPEG's coarsest
    quantisation leaves it (compression v10 vetoed 39 of 40 such pictures), and its diagonals are staircases that
    read soft. Both checks read the art's own pixels; resolution reports its own size. A photo enlarged the same way
    (thousands of colours) is not heavy compression either (its flat blocks' means sit on no DC lattice): it is a
    small photo blown up, which resolution reports."""
    small = photos["astronaut"].resize((64, 64), Image.Resampling.BOX)
    art = small.quantize(32).convert("RGB").resize((64 * factor, 64 * factor), Image.Resampling.NEAREST)
    blocky = small.resize((64 * factor, 64 * factor), Image.Resampling.NEAREST)
    compression, sharpness = get_check("compression"), get_check("sharpness")
    shown = load_image(_png(art))
    c, s = compression.measure(shown), sharpness.measure(shown)
    assert c.score < 0.5 and c.values["pixel_repeat"] == factor and "pixel art" in c.summary
    assert s.score < 0.5 and s.values["pixel_repeat"] == factor and "pixel art" in s.summary
    photo = load_image(_png(blocky))
    blown_up = compression.measure(photo)
    assert blown_up.values["pixel_repeat"] == 1 and blown_up.score < 0.5
    buf = io.BytesIO()
    art.save(buf, "JPEG", quality=90)  # no longer an exact repeat: its flat blocks' means sit on no DC lattice
    as_jpeg = compression.measure(load_image(buf.getvalue()))
    assert as_jpeg.score < 0.5 and as_jpeg.values["dct_steps"][0] == 120 and as_jpeg.values["pixel_quality"] == 100
    for shown_large in (shown, photo):
        res = get_check("resolution").measure(shown_large)
        assert res.score >= 0.9 and res.values["pixel_repeat"] == factor and "its own pixels are 64x64" in res.summary
