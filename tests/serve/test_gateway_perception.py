"""The gateway passes the request's title and queries to the perception checks (issue 13)."""

from __future__ import annotations

import base64

import httpx
import pytest

from creative4u.checks import perception

pytestmark = pytest.mark.skipif(not perception.models_available(),
                                reason=f"perception models not exported: {perception.EXPORT_HINT}")


def _b64(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def test_check_and_select_use_the_title(gateway, creative_jpegs):
    images = [_b64(creative_jpegs["coffee.jpg"]), _b64(creative_jpegs["chelsea.jpg"])]
    with httpx.Client(base_url=gateway.base_url, headers={"Authorization": f"Bearer {gateway.api_key}"},
                      timeout=120) as http:
        r = http.post("/v1/creatives/check", json={"images": images, "title": "Organic cappuccino",
                                                   "queries": ["cappuccino"], "evidence": False})
        assert r.status_code == 200, r.text
        coffee, cat = (img["checks"]["relevance"] for img in r.json()["images"])
        assert coffee["status"] == "ok" and cat["status"] == "flagged", (coffee["summary"], cat["summary"])
        bare = http.post("/v1/creatives/check", json={"images": images, "evidence": False}).json()
        assert bare["images"][0]["checks"]["relevance"]["status"] == "unavailable"
        s = http.post("/v1/creatives/select", json={"images": images[::-1], "title": "Organic cappuccino",
                                                    "queries": "cappuccino, coffee gift"})
        assert s.status_code == 200 and s.json()["winner_index"] == 1, s.text
        assert "matches" in s.json()["explanation"]
