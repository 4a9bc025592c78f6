"""Provenance and the combined AI verdict: the real C2PA test files (read in place from ../shared) and generator
metadata written with the key layouts the real tools use."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from creative4u.checks.ai_image import AiImage, combine
from creative4u.checks.provenance import Provenance, decode_user_comment, read_xmp
from creative4u.images import load_image

C2PA = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "c2pa"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
A1111 = ("red sneaker, studio light\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, "
         "Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.7.0")


def fixture(name: str):
    path = C2PA / name
    if not path.is_file():
        pytest.skip(f"C2PA fixture {path} not present (shared/fixtures/c2pa from c2pa-rs)")
    return load_image(path)


def _png(texts: dict[str, str], itxt: dict[str, str] | None = None) -> bytes:
    meta = PngImagePlugin.PngInfo()
    for k, v in texts.items():
        meta.add_text(k, v)
    for k, v in (itxt or {}).items():
        meta.add_itxt(k, v)
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(buf, "PNG", pnginfo=meta)
    return buf.getvalue()


def _exif_file(fmt: str, base: dict[int, str] | None = None, user_comment: bytes | None = None) -> bytes:
    exif = Image.Exif()
    for tag, value in (base or {}).items():
        exif[tag] = value
    if user_comment is not None:
        exif.get_ifd(0x8769)[0x9286] = user_comment
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(buf, fmt, exif=exif, quality=90)
    return buf.getvalue()


def test_generative_fill_edit_is_declared_with_valid_signature():
    report = Provenance().run(fixture("ocsp.jpg"))
    assert report.flagged and report.values["verdict"] == "ai_edited"
    c2 = report.values["c2pa"]
    assert c2["state"] == "Valid" and "compositeWithTrainedAlgorithmicMedia" in c2["digital_source_types"]
    assert c2["signer"] and c2["claim_generator"].startswith("Adobe_Photoshop")
    assert report.values["generator"] == "Adobe Firefly"
    assert "valid signature" in report.summary


def test_algorithmic_media_manifest_is_generated():
    report = Provenance().run(fixture("C.jpg"))
    assert report.flagged and report.values["verdict"] == "ai_generated"


@pytest.mark.parametrize("name", ["CA.jpg", "XCA.jpg", "no_manifest.jpg", "earth_apollo17.jpg", "sample1.png"])
def test_files_without_an_ai_declaration_are_not_flagged(name):
    report = Provenance().run(fixture(name))
    assert not report.flagged, report.summary


def test_invalid_manifest_is_reported_as_invalid():
    report = Provenance().run(fixture("XCA.jpg"))
    assert report.values["c2pa"]["state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in report.values["c2pa"]["failures"]


def test_cloud_manifest_is_reported_not_fetched():
    report = Provenance().run(fixture("cloudx.jpg"))
    assert report.values["verdict"] == "remote_manifest_not_fetched"
    assert "remote manifest, not fetched" in report.summary
    assert report.values["c2pa"]["remote_url"].startswith("https://")
    assert not report.flagged  # unknown is not "AI", and not "clean" either: the summary says so


def test_stripped_manifest_reference_is_noted():
    report = Provenance().run(fixture("no_manifest.jpg"))
    assert any("no longer in the file" in r for r in report.values["reasons"])


GENERATED = {
    "a1111.png": lambda: _png({"parameters": A1111}),
    "comfyui.png": lambda: _png({"prompt": json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": 1}}}),
                                 "workflow": json.dumps({"last_node_id": 9, "nodes": []})}),
    "invokeai.png": lambda: _png({"invokeai_metadata": json.dumps({"positive_prompt": "a mug", "seed": 1})}),
    "fooocus.png": lambda: _png({"parameters": json.dumps({"Prompt": "a watch", "Version": "Fooocus v2.5.5"}),
                                 "fooocus_scheme": "fooocus"}),
    "novelai.png": lambda: _png({"Software": "NovelAI", "Source": "NovelAI Diffusion V4.5 4BDE2A90",
                                 "Comment": json.dumps({"prompt": "a teapot", "steps": 28})}),
    "a1111.jpg": lambda: _exif_file("JPEG", user_comment=b"UNICODE\x00" + A1111.encode("utf-16-be")),
    "a1111.webp": lambda: _exif_file("WEBP", user_comment=b"UNICODE\x00" + A1111.encode("utf-16-be")),
    "comfyui.webp": lambda: _exif_file("WEBP", base={0x0110: 'prompt:{"3": {"class_type": "KSampler"}}'}),
    "xmp.png": lambda: _png({}, {"XML:com.adobe.xmp": f'<x:xmpmeta><rdf:Description Iptc4xmpExt:DigitalSourceType='
                                                      f'"{IPTC}trainedAlgorithmicMedia"/></x:xmpmeta>'}),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generator_metadata_is_declared_ai(name):
    report = Provenance().run(load_image(GENERATED[name](), name=name))
    assert report.flagged, report.summary
    assert report.values["verdict"] == "ai_generated"


def test_prompt_is_untrusted_text():
    report = Provenance().run(load_image(GENERATED["a1111.png"]()))
    quoted = [e for e in report.evidence if e.kind == "text"][0]
    assert quoted.data["untrusted"] and quoted.data["strings"] == ["red sneaker, studio light"]


def test_inpainting_parameters_mean_an_ai_edit():
    data = _png({"parameters": A1111 + ", Denoising strength: 0.75, Mask blur: 4, Inpaint area: Only masked"})
    assert Provenance().run(load_image(data)).values["verdict"] == "ai_edited"


def test_camera_and_editor_exif_are_not_ai():
    camera = Provenance().run(load_image(_exif_file("JPEG", base={0x010F: "Canon", 0x0131: "Ver.1.0.4"})))
    assert camera.values["verdict"] == "none" and not camera.flagged
    lightroom = Provenance().run(load_image(_exif_file("JPEG", base={0x0131: "Adobe Photoshop Lightroom 13.1"})))
    assert lightroom.values["verdict"] == "edited" and not lightroom.flagged


def test_user_comment_byte_orders_and_xmp_regex():
    assert decode_user_comment(b"UNICODE\x00" + "Steps: 1".encode("utf-16-le")) == "Steps: 1"
    assert read_xmp(["<x:xmpmeta/>"])["digital_source_types"] == []


def test_declared_provenance_beats_forensics():
    report = AiImage().run(fixture("ocsp.jpg"))
    assert report.flagged and report.values["basis"] == "provenance" and report.values["verdict"] == "ai_edited"
    assert "Adobe Firefly" in report.summary
    weak = combine({"verdict": "none", "score": 0.0, "reasons": []}, {"copy_move": 1.0})
    assert weak["verdict"] == "suspected_edit" and weak["score"] < 0.5  # forensics alone never flags by default
