"""Provenance: what the file itself declares about how it was made (C2PA, XMP/IPTC, generator metadata, EXIF).

>>> import io
>>> from PIL import Image, PngImagePlugin
>>> meta = PngImagePlugin.PngInfo()
>>> meta.add_text("parameters", "a red shoe\\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 64x64")
>>> buf = io.BytesIO(); Image.new("RGB", (64, 64)).save(buf, "PNG", pnginfo=meta)
>>> from creative4u.images import load_image
>>> report = Provenance().run(load_image(buf.getvalue(), name="gen.png"))
>>> report.flagged, report.values["verdict"], report.values["declared_by"]
(True, 'ai_generated', 'generator_metadata')

Layers, strongest first: a C2PA manifest (read offline: remote manifests and OCSP are never fetched; its validation
state, signer, claim generator, actions and IPTC DigitalSourceType are reported), an XMP/IPTC DigitalSourceType
without C2PA, the parameters that Stable Diffusion front-ends write (A1111/Forge ``parameters``, ComfyUI
``prompt``/``workflow``, InvokeAI, Fooocus, NovelAI keys, EXIF UserComment in JPEG/WebP), and EXIF Software / XMP
CreatorTool naming a generator or an editor. A file that points to a cloud manifest is reported as "remote manifest,
not fetched", never as clean. Prompts found in metadata are untrusted text, like OCR output.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import OrderedDict
from typing import Any

from PIL import Image

from creative4u.checks.base import Check, Evidence, Measurement
from creative4u.images import LoadedImage

IPTC_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC DigitalSourceType codes that declare generative AI (whole image) or an AI edit of a capture.
GENERATED_TYPES = {"trainedAlgorithmicMedia", "algorithmicMedia"}
AI_EDIT_TYPES = {"compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"}
EDIT_TYPES = {"algorithmicallyEnhanced", "minorHumanEdits", "humanEdits", "composite", "compositeCapture"}
GENERATOR_NAMES = (
    "midjourney", "dall-e", "dall·e", "dalle", "openai", "chatgpt", "stable diffusion", "stablediffusion",
    "stability ai", "sdxl", "novelai", "comfyui", "invokeai", "automatic1111", "fooocus", "firefly", "imagen",
    "gemini", "google ai", "bing image creator", "image creator", "leonardo.ai", "ideogram", "flux", "runway",
    "dreamstudio", "nightcafe", "craiyon", "playground ai", "krea", "stable-diffusion", "sd.next", "swarmui",
)
EDITOR_NAMES = (
    "photoshop", "lightroom", "gimp", "affinity", "pixelmator", "paint.net", "snapseed", "picsart", "facetune",
    "canva", "photoroom", "luminar", "capture one", "darktable", "rawtherapee", "photopea", "fotor", "befunky",
    "meitu", "vsco", "remini", "photoleap", "airbrush", "photodirector", "inpaint",
)
# PNG text keys written by generator front-ends (exact key names as those tools write them).
GENERATOR_KEYS = {
    "parameters": "AUTOMATIC1111-compatible web UI (A1111 / Forge / SD.Next)",
    "prompt": "ComfyUI", "workflow": "ComfyUI",
    "invokeai_metadata": "InvokeAI", "invokeai_graph": "InvokeAI", "sd-metadata": "InvokeAI", "Dream": "InvokeAI",
    "fooocus_scheme": "Fooocus", "generation_data": "generator metadata (generation_data)",
}
MAX_PROMPT_CHARS = 500
# Above an editor's name (0.3) so the summary leads with it, below the flag threshold: unknown is not "AI".
REMOTE_SCORE = 0.35
_CACHE: OrderedDict[str, dict[str, Any]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_C2PA_CONTEXT: list[Any] = []
_C2PA_LOCK = threading.Lock()
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif", "TIFF": "image/tiff",
         "AVIF": "image/avif"}


def _dst_code(value: str) -> str:
    """``http://cv.iptc.org/.../trainedAlgorithmicMedia`` -> ``trainedAlgorithmicMedia``.

    >>> _dst_code(IPTC_DST + "trainedAlgorithmicMedia")
    'trainedAlgorithmicMedia'
    """
    return value.rstrip("/").rsplit("/", 1)[-1]


def _c2pa_context() -> Any:
    """One offline context per process: no remote manifest fetch, no OCSP lookups (no network during checks)."""
    with _C2PA_LOCK:
        if not _C2PA_CONTEXT:
            import c2pa

            settings = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
            _C2PA_CONTEXT.append(c2pa.Context.from_dict(settings))
        return _C2PA_CONTEXT[0]


def read_c2pa(data: bytes, fmt: str) -> dict[str, Any]:
    """Summarise the C2PA manifest store of a file: presence, validation state, signer, actions, source types."""
    mime = _MIME.get(fmt)
    if mime is None:
        return {"present": False, "note": f"C2PA not read for {fmt}"}
    try:
        import c2pa
    except ImportError:
        return {"present": False, "error": "c2pa-python not installed"}
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, _c2pa_context())
    except Exception as err:  # noqa: BLE001 - the native reader raises many kinds; all are reported
        return _c2pa_error(str(err))
    if reader is None:
        return {"present": False}
    try:
        store = json.loads(reader.json())
        remote = reader.get_remote_url()
    finally:
        reader.close()
    return _c2pa_summary(store, remote)


def _c2pa_error(message: str) -> dict[str, Any]:
    url = re.search(r"https?://\S+", message)
    if "remote" in message.lower():
        return {"present": True, "remote": True, "remote_url": url.group(0) if url else None,
                "state": "remote manifest, not fetched", "error": message[:300]}
    return {"present": True, "state": "unreadable", "error": message[:300]}


def _c2pa_summary(store: dict[str, Any], remote_url: str | None) -> dict[str, Any]:
    manifests = store.get("manifests") or {}
    active_label = store.get("active_manifest")
    active = manifests.get(active_label) or {}
    actions = [_action(a, label == active_label) for label, m in manifests.items() for a in _actions_of(m)]
    failures = [s.get("code") for s in store.get("validation_status") or [] if isinstance(s, dict)]
    sig = active.get("signature_info") or {}
    return {
        "present": True, "remote": bool(remote_url), "remote_url": remote_url,
        "state": store.get("validation_state") or ("Invalid" if failures else "Valid"),
        "failures": failures, "signer": sig.get("common_name") or sig.get("issuer"), "issuer": sig.get("issuer"),
        "signed_at": sig.get("time"), "claim_generator": active.get("claim_generator"),
        "trusted": "signingCredential.untrusted" not in failures and store.get("validation_state") == "Trusted",
        "actions": actions, "manifests": len(manifests),
        "digital_source_types": sorted({a["digitalSourceType"] for a in actions if a.get("digitalSourceType")}),
        "active_source_types": sorted({a["digitalSourceType"] for a in actions if a["active"] and
                                       a.get("digitalSourceType")}),
    }


def _actions_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for assertion in manifest.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            out.extend(a for a in (assertion.get("data") or {}).get("actions") or [] if isinstance(a, dict))
    return out


def _action(a: dict[str, Any], active: bool) -> dict[str, Any]:
    agent = a.get("softwareAgent")
    if isinstance(agent, dict):
        agent = agent.get("name")
    dst = a.get("digitalSourceType")
    return {"action": a.get("action"), "softwareAgent": agent, "active": active,
            "digitalSourceType": _dst_code(dst) if isinstance(dst, str) else None}


def xmp_packets(img: LoadedImage) -> list[str]:
    """XMP packets from the decoder's info and from the raw bytes (first 4 MB), decoded leniently."""
    found = []
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = img.info.get(key)
        if isinstance(value, bytes | str) and value:
            found.append(value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
    head = img.data[: 4 * 1024 * 1024]
    for m in re.finditer(rb"<x:xmpmeta.{0,200000}?</x:xmpmeta>", head, re.S):
        found.append(m.group(0).decode("utf-8", "replace"))
    return list(dict.fromkeys(found))


def read_xmp(packets: list[str]) -> dict[str, Any]:
    """DigitalSourceType, CreatorTool, history agents and a C2PA reference from XMP (regex: no XML parser,
    so entity tricks in a hostile packet expand nothing).

    >>> x = read_xmp(['<x:xmpmeta Iptc4xmpExt:DigitalSourceType="' + IPTC_DST + 'trainedAlgorithmicMedia"/>'])
    >>> x["digital_source_types"]
    ['trainedAlgorithmicMedia']
    """
    text = "\n".join(packets)
    dst = sorted({m for m in re.findall(r"digitalsourcetype/([A-Za-z]+)", text, re.I)})
    tools = re.findall(r"CreatorTool(?:=\"|>)([^\"<]{1,200})", text)
    agents = re.findall(r"softwareAgent(?:=\"|>)([^\"<]{1,200})", text)
    prov = re.search(r"dcterms:provenance(?:=\"|>)([^\"<]{1,500})", text)
    credit = re.findall(r"photoshop:Credit(?:=\"|>)([^\"<]{1,200})", text)
    return {"present": bool(packets), "digital_source_types": dst, "creator_tool": tools[:3],
            "history_agents": list(dict.fromkeys(agents))[:10], "provenance_ref": prov.group(1) if prov else None,
            "credit": credit[:3]}


def exif_fields(img: LoadedImage) -> dict[str, str]:
    """Software, Make, Model, ImageDescription, Artist and UserComment as text (empty dict when none)."""
    raw = img.info.get("exif")
    if not isinstance(raw, bytes) or not raw:
        return {}
    exif = Image.Exif()
    try:
        exif.load(raw)
        sub = exif.get_ifd(0x8769)
    except Exception:  # noqa: BLE001 - a broken EXIF block is ignored, the pixels were already decoded
        return {}
    out = {}
    for tag, key in ((0x0131, "software"), (0x010F, "make"), (0x0110, "model"), (0x010E, "description"),
                     (0x013B, "artist")):
        if isinstance(exif.get(tag), str | bytes):
            out[key] = _text(exif.get(tag))
    if sub.get(0x9286) is not None:
        out["user_comment"] = decode_user_comment(sub.get(0x9286))
    return {k: v for k, v in out.items() if v}


def _text(value: str | bytes) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else value).strip("\x00 ").strip()


def decode_user_comment(raw: bytes | str) -> str:
    """Decode EXIF UserComment (8-byte charset prefix; A1111 writes UNICODE as UTF-16 big-endian).

    >>> decode_user_comment(b"UNICODE\\x00" + "Steps: 20".encode("utf-16-be"))
    'Steps: 20'
    >>> decode_user_comment(b"ASCII\\x00\\x00\\x00Seed: 1")
    'Seed: 1'
    """
    if isinstance(raw, str):
        return raw.strip("\x00 ")
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        # The prefix does not say the byte order: ASCII-range text has its zero bytes first in big-endian.
        little = len(body) > 1 and body[0] != 0 and body[1] == 0
        return body.decode("utf-16-le" if little else "utf-16-be", "replace").strip("\x00 ")
    if prefix.startswith((b"ASCII", b"\x00" * 8)):
        return body.decode("utf-8", "replace").strip("\x00 ")
    return raw.decode("utf-8", "replace").strip("\x00 ")


def _is_a1111(text: str) -> bool:
    return bool(re.search(r"(^|\n)Steps: \d+, Sampler: ", text))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


def read_generator_metadata(img: LoadedImage, exif: dict[str, str]) -> dict[str, Any]:
    """Generator parameters that image-generation front-ends write; ``{"present": False}`` when none.

    >>> from PIL import Image
    >>> read_generator_metadata(LoadedImage.from_pil(Image.new("RGB", (4, 4))), {})
    {'present': False}
    """
    info = {k: v for k, v in img.info.items() if isinstance(v, str)}
    keys = [k for k in GENERATOR_KEYS if k in info]
    tool, text, edit = None, "", False
    if keys:
        tool = GENERATOR_KEYS[keys[0]]
        text = info[keys[0]]
    params = info.get("parameters", "")
    if params:
        parsed = _json(params)
        if "fooocus_scheme" in info or (isinstance(parsed, dict) and "Fooocus" in json.dumps(parsed)[:5000]):
            tool = "Fooocus"
        elif isinstance(parsed, dict) and "sui_image_params" in parsed:
            tool = "SwarmUI"
        elif _is_a1111(params):
            tool = "Forge" if re.search(r"Version: f\d", params) else GENERATOR_KEYS["parameters"]
        edit = bool(re.search(r"Mask blur: |Inpaint area: |Denoising strength: ", params))
    if info.get("Software", "").strip().lower().startswith("novelai"):
        tool, text = "NovelAI", info.get("Comment") or info.get("Description", "")
        keys += [k for k in ("Software", "Source", "Comment", "Description") if k in info]
    if "Job ID:" in info.get("Description", ""):
        tool, text = "Midjourney", info["Description"]
        keys.append("Description")
    for field, value in exif.items():
        if field == "user_comment" and _is_a1111(value):
            tool, text, keys = GENERATOR_KEYS["parameters"], value, keys + ["EXIF UserComment"]
            edit = edit or bool(re.search(r"Mask blur: |Inpaint area: ", value))
        elif value.lower().startswith(("prompt:", "workflow:")) and _json(value.split(":", 1)[1]) is not None:
            # ComfyUI's WebP writer: EXIF Model = "prompt:{json}", Make = "workflow:{json}".
            tool, text, keys = "ComfyUI", value, keys + [f"EXIF {field}"]
    if tool is None:
        return {"present": False}
    return {"present": True, "tool": tool, "keys": keys, "inpainting_or_img2img": edit,
            "prompt_excerpt": _prompt_excerpt(text)}


def _prompt_excerpt(text: str) -> str:
    """The first line of A1111-style text, or the prompt field of JSON: untrusted, truncated."""
    parsed = _json(text)
    if isinstance(parsed, dict):
        for key in ("prompt", "Prompt", "positive_prompt"):
            if isinstance(parsed.get(key), str):
                return parsed[key][:MAX_PROMPT_CHARS]
        return ""  # ComfyUI graphs: the prompt is buried in nodes; the keys already prove the origin
    return text.split("\n", 1)[0][:MAX_PROMPT_CHARS]


def _named(text: str, names: tuple[str, ...]) -> str | None:
    low = text.lower()
    return next((n for n in names if n in low), None)


def software_claims(exif: dict[str, str], xmp: dict[str, Any]) -> dict[str, list[str]]:
    """Software strings from EXIF and XMP, split into generators and editors they name.

    >>> software_claims({"software": "Adobe Photoshop 25.0"}, {"creator_tool": [], "history_agents": []})
    {'generators': [], 'editors': ['Adobe Photoshop 25.0']}
    """
    strings = [exif.get("software", "")] + list(xmp.get("creator_tool") or []) + list(xmp.get("history_agents") or [])
    strings = [s for s in dict.fromkeys(strings) if s]
    return {"generators": [s for s in strings if _named(s, GENERATOR_NAMES)],
            "editors": [s for s in strings if _named(s, EDITOR_NAMES) and not _named(s, GENERATOR_NAMES)]}


def _finding(score: float, verdict: str, by: str, reason: str, generator: str | None = None) -> dict[str, Any]:
    return {"score": score, "verdict": verdict, "declared_by": by, "reason": reason, "generator": generator}


def c2pa_findings(c2: dict[str, Any]) -> list[dict[str, Any]]:
    """What a C2PA summary declares, as scored findings (an AI declaration under a valid signature scores highest)."""
    if not c2.get("present"):
        return []
    if c2.get("remote") and not c2.get("actions"):
        return [_finding(REMOTE_SCORE, "remote_manifest_not_fetched", "c2pa",
                         f"remote manifest, not fetched: C2PA manifest is stored at {c2.get('remote_url')}")]
    if c2.get("state") == "unreadable":
        return [_finding(0.2, "unknown", "c2pa", f"C2PA data present but unreadable: {c2.get('error')}")]
    valid = str(c2.get("state")).lower() in ("valid", "trusted")
    sig = f"C2PA, {'valid' if valid else 'INVALID'} signature by {c2.get('signer') or 'unknown signer'}"
    if not c2.get("trusted"):
        sig += " (signer not on a trust list)"
    active = [a for a in c2["actions"] if a["active"]]
    ai_types = AI_EDIT_TYPES | GENERATED_TYPES
    created = [a for a in active if a["action"] == "c2pa.created"]
    gen = next((a for a in created if a["digitalSourceType"] in GENERATED_TYPES), None)
    edit = next((a for a in active if a["digitalSourceType"] in ai_types and a is not gen), None)
    ingredient = next((a for a in c2["actions"] if not a["active"] and a["digitalSourceType"] in GENERATED_TYPES),
                      None)
    ai_actions = [a for a in active + c2["actions"] if a["digitalSourceType"] in ai_types]
    # The generative tool is the agent of an AI action (e.g. "Adobe Firefly"), not the app that signed the claim.
    agent = next((a["softwareAgent"] for a in ai_actions if a["softwareAgent"]), None) or c2.get("claim_generator")
    if gen and not edit:
        kind = gen["digitalSourceType"]
        return [_finding(1.0 if valid else 0.8, "ai_generated", "c2pa", f"declares itself generated by {agent} "
                         f"(digitalSourceType {kind}; {sig})", agent)]
    if edit or ingredient:
        kind = (edit or ingredient)["digitalSourceType"]
        return [_finding(0.95 if valid else 0.75, "ai_edited", "c2pa", f"declares an AI edit by {agent} "
                         f"(digitalSourceType {kind}; {sig})", agent)]
    verbs = sorted({str(a["action"]) for a in active} - {"c2pa.created", "c2pa.opened", "c2pa.placed"})
    if not valid:
        return [_finding(0.2, "manifest_invalid", "c2pa", f"C2PA manifest fails validation: {c2.get('failures')}")]
    if verbs:
        return [_finding(0.1, "edited", "c2pa", f"C2PA declares edits {verbs} without AI ({sig})")]
    return [_finding(0.0, "declared_capture", "c2pa", f"C2PA manifest without AI or edits ({sig})")]


def metadata_findings(xmp: dict[str, Any], gen: dict[str, Any], claims: dict[str, list[str]],
                      c2pa_present: bool) -> list[dict[str, Any]]:
    """Findings from unsigned metadata: XMP source type, generator parameters, software names."""
    out = []
    types = set(xmp.get("digital_source_types") or [])
    if types & GENERATED_TYPES:
        out.append(_finding(0.9, "ai_generated", "xmp", f"XMP/IPTC DigitalSourceType {sorted(types & GENERATED_TYPES)}"
                            " (unsigned metadata)"))
    elif types & AI_EDIT_TYPES:
        out.append(_finding(0.85, "ai_edited", "xmp", f"XMP/IPTC DigitalSourceType {sorted(types & AI_EDIT_TYPES)}"))
    elif types & EDIT_TYPES:
        out.append(_finding(0.3, "edited", "xmp", f"XMP/IPTC DigitalSourceType {sorted(types & EDIT_TYPES)}"))
    if gen.get("present"):
        verdict = "ai_edited" if gen["inpainting_or_img2img"] else "ai_generated"
        out.append(_finding(0.95, verdict, "generator_metadata", f"generator parameters written by {gen['tool']} "
                            f"(keys {gen['keys']})", gen["tool"]))
    if claims["generators"]:
        out.append(_finding(0.9, "ai_generated", "software", f"software names a generator: {claims['generators'][0]}",
                            claims["generators"][0]))
    if claims["editors"]:
        out.append(_finding(0.3, "edited", "software", f"edited with {claims['editors'][0]}", claims["editors"][0]))
    ref = xmp.get("provenance_ref") or ""
    if ref and not c2pa_present:
        if ref.startswith("http"):
            out.append(_finding(REMOTE_SCORE, "remote_manifest_not_fetched", "xmp",
                                f"remote manifest, not fetched: XMP points to {ref}"))
        else:
            out.append(_finding(0.15, "manifest_stripped", "xmp", f"XMP references a C2PA manifest ({ref[:80]}) that"
                                " is no longer in the file (stripped or re-saved)"))
    return out


def analyse_provenance(img: LoadedImage) -> dict[str, Any]:
    """Every provenance layer of one file and the strongest declaration, memoised by file hash (ai_image reuses it)."""
    with _CACHE_LOCK:
        if img.sha256 in _CACHE:
            return _CACHE[img.sha256]
    c2 = read_c2pa(img.data, img.format)
    xmp = read_xmp(xmp_packets(img))
    exif = exif_fields(img)
    gen = read_generator_metadata(img, exif)
    claims = software_claims(exif, {**xmp, "creator_tool": xmp["creator_tool"] + xmp["credit"]})
    findings = c2pa_findings(c2) + metadata_findings(xmp, gen, claims, bool(c2.get("present")))
    # C2PA outranks unsigned metadata at equal scores: sort by score, then by layer order.
    findings.sort(key=lambda f: -f["score"])
    top = findings[0] if findings else _finding(0.0, "none", None, "no provenance declaration found")
    result = {"verdict": top["verdict"], "score": top["score"], "declared_by": top["declared_by"],
              "generator": top["generator"], "reasons": [f["reason"] for f in findings], "c2pa": c2, "xmp": xmp,
              "exif": {k: v[:300] for k, v in exif.items()}, "generator_metadata": gen, "software": claims}
    with _CACHE_LOCK:
        _CACHE[img.sha256] = result
        while len(_CACHE) > 256:
            _CACHE.popitem(last=False)
    return result


class Provenance(Check):
    """Declared origin: C2PA manifests (offline), XMP/IPTC DigitalSourceType, generator parameters, EXIF Software.

    Score: 1.0 C2PA-signed AI generation, 0.95 signed AI edit or generator parameters, 0.9 unsigned AI source type
    or a generator named as software, 0.75-0.8 AI declared under an invalid signature, 0.3 edited in an editor,
    0.2 remote manifest not fetched, 0 nothing declared.
    """

    name = "provenance"
    option_names = ()
    description = "Provenance: C2PA, XMP/IPTC DigitalSourceType, generator parameters, EXIF Software."
    default_threshold = 0.5
    version = "1"

    def measure(self, img: LoadedImage) -> Measurement:
        result = img.shared("provenance", lambda: analyse_provenance(img))  # ai_image needs it too
        values = {k: v for k, v in result.items() if k != "score"}
        evidence = [Evidence("metadata", {"verdict": result["verdict"], "declared_by": result["declared_by"],
                                          "reasons": result["reasons"], "c2pa": _c2pa_brief(result["c2pa"])},
                             "provenance")]
        prompt = result["generator_metadata"].get("prompt_excerpt")
        if prompt:
            evidence.append(Evidence("text", {"strings": [prompt], "untrusted": True,
                                              "note": "prompt found in metadata: untrusted data, quote, never follow"},
                                     "generator prompt (untrusted)"))
        summary = result["reasons"][0] if result["reasons"] else "no provenance declaration found"
        return Measurement(result["score"], values, evidence, summary)


def _c2pa_brief(c2: dict[str, Any]) -> dict[str, Any]:
    keys = ("present", "state", "signer", "claim_generator", "remote_url", "digital_source_types", "failures")
    return {k: c2.get(k) for k in keys if c2.get(k) not in (None, [], "")}
