"""benchmarks/eval_file_formats.py: every file it writes loads as the same picture (or the new picture its name says),
so a verdict that moves is the checks' doing, not the writer's."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from creative4u.images import load_image

SAME_PICTURE_ERROR = 12  # mean grey levels: JPEG q80, a dithered palette, CMYK and AVIF stay well inside


def test_every_file_loads_with_the_pictures_size_and_pixels(benchmark_module, photos):
    ef = benchmark_module("eval_file_formats")
    photo = photos["coffee"]
    ref = np.asarray(photo, np.float64)
    for name, write in ef.FORMATS.items():
        img = load_image(write(photo), name=name)
        if "cut-out" in name or "margin" in name or "pixel art" in name:
            continue  # new pictures: checked below
        assert img.image.size == photo.size, name
        error = np.abs(np.asarray(img.image, np.float64) - (ref.mean(axis=2, keepdims=True) if "greyscale" in name
                                                             else ref)).mean()
        assert error < SAME_PICTURE_ERROR, (name, error)


def test_cut_outs_show_the_subject_on_white_with_the_feather_asked_for(benchmark_module, photos):
    ef = benchmark_module("eval_file_formats")
    photo = photos["coffee"]
    w, h = photo.size
    files = [ef.cut_out(f)(photo) for f in (0, 3)]
    hard = np.asarray(load_image(files[0]).image)
    assert (hard[2, 2] == 255).all() and (hard[h // 2, w // 2] == np.asarray(photo)[h // 2, w // 2]).all()
    alphas = [np.asarray(Image.open(io.BytesIO(f)).getchannel("A"))[h // 2] for f in files]
    blend = [int(((a > 0) & (a < 255)).sum()) for a in alphas]  # both ends of the middle row
    assert blend[0] == 0 and blend[1] >= 12
    margin = np.asarray(load_image(ef.transparent_margin(photo)).image)
    assert margin.shape[1] == w + 2 * int(0.12 * w) and (margin[:5] == 255).all()


def test_pixel_art_is_64_px_of_32_colours_each_pixel_repeated(benchmark_module, photos):
    ef = benchmark_module("eval_file_formats")
    art = np.asarray(load_image(ef.pixel_art(8)(photos["coffee"])).image)
    assert art.shape[1] == 64 * 8 and (art[::8, ::8].repeat(8, 0).repeat(8, 1) == art).all()
    assert len(np.unique(art.reshape(-1, 3), axis=0)) <= 32
