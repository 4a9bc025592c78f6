"""Pairs where relevance decides: a photo that matches the title against an off-topic photo of equal quality.

>>> SUBJECTS["skimage-coffee"].family, SUBJECTS["skimage-coffee"].title
('food & drink', 'Organic cappuccino, 250 g')
>>> sorted({s.family for s in SUBJECTS.values()})[:3]
['animals', 'flowers & plants', 'food & drink']

Every photo of the offline sets (``creative4u.data.photos``: skimage + Debian wallpapers) is labelled here by hand
with a subject family and an ad-style title and queries naming what the photo shows. A relevance pair takes the
clean creative of photo *i* (``v0-clean``) and the clean creative of another photo *j* of a different subject
(``v1-clean``, the same builder: same size, same JPEG quality), both judged for *i*'s title and queries, so only the
title tells them apart. Photos keep the train/test split of the quality pairs (whole photos held out).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Subject:
    family: str
    title: str
    queries: tuple[str, ...]


def _s(family: str, title: str, *queries: str) -> Subject:
    return Subject(family, title, queries)


FOOD, ANIMALS, VEHICLES, OBJECTS = "food & drink", "animals", "vehicles", "objects"
PLANTS, SCENERY, PEOPLE, SCIENCE = "flowers & plants", "scenery", "people", "science images"

SUBJECTS: dict[str, Subject] = {
    "skimage-coffee": _s(FOOD, "Organic cappuccino, 250 g", "cappuccino", "coffee cup"),
    "lomiri-picture-0b-by-freespace": _s(FOOD, "Fresh figs, 500 g tray", "fresh figs", "fruit"),
    "skimage-chelsea": _s(ANIMALS, "Tabby cat portrait print", "tabby cat", "cat"),
    "lomiri-friends-by-aitzol-berasategi": _s(ANIMALS, "Dog harness for large dogs", "dog", "dog walking"),
    "lomiri-dragonfly-by-bolly": _s(ANIMALS, "Dragonfly macro photo print", "dragonfly", "insect"),
    "mate-ladybird": _s(ANIMALS, "Ladybird garden decoration", "ladybird", "ladybug"),
    "skimage-motorcycle-left": _s(VEHICLES, "Sport motorcycle, 600 cc", "motorcycle", "motorbike"),
    "skimage-motorcycle-right": _s(VEHICLES, "Sport motorcycle, 600 cc", "motorcycle", "motorbike"),
    "skimage-rocket": _s(VEHICLES, "Falcon 9 rocket model kit", "rocket", "space launch"),
    "lomiri-free-by-peter-nerlich": _s(OBJECTS, "Ceramic bird ornament", "bird figurine", "home decor"),
    "lomiri-greentock-by-peter-nerlich": _s(OBJECTS, "Modern wall clock", "wall clock", "clock"),
    "lomiri-picture-1a-by-freespace": _s(OBJECTS, "Paint brush set", "paint brushes", "art supplies"),
    "lomiri-wine-by-jakkub-mede": _s(OBJECTS, "Djembe hand drum", "djembe", "drum"),
    "lomiri-seeding-by-clements-engelhardt": _s(PLANTS, "Dandelion seed heads", "dandelion", "wild flowers"),
    "mate-twowings": _s(PLANTS, "Dandelion seed close-up", "dandelion", "seeds"),
    "mate-freshflower": _s(PLANTS, "Fresh flower bouquet", "flowers", "bouquet"),
    "mate-garden": _s(PLANTS, "Marigold flower seeds", "marigold", "garden flowers"),
    "mate-yellowflower": _s(PLANTS, "Yellow flower bouquet", "yellow flowers", "flowers"),
    "mate-blinds": _s(PLANTS, "Green leaf houseplant", "houseplant", "green leaf"),
    "mate-raindrops": _s(PLANTS, "Leaf with raindrops", "leaf", "raindrops"),
    "mate-greenmeadow": _s(PLANTS, "Lawn grass seed", "grass", "lawn"),
    "lomiri-aitzgorri-by-aitzol-berasategi": _s(SCENERY, "Mountain hiking tour", "mountains", "hiking"),
    "lomiri-picosdeeuropa-by-aitzol-berasategi": _s(SCENERY, "Mountain hiking tour", "mountains", "hiking"),
    "lomiri-bridge-by-sander-klootwijk": _s(SCENERY, "Suspension bridge over the bay", "bridge", "sea view"),
    "mate-storm": _s(SCENERY, "Storm clouds sky print", "storm", "clouds"),
    "lomiri-life-by-aitzol-berasategi": _s(SCENERY, "Forest walk", "forest", "trees"),
    "lomiri-sunset-by-aitzol-berasategi": _s(SCENERY, "Sunset poster", "sunset", "evening sky"),
    "mate-aqua": _s(SCENERY, "Water drop splash print", "water drop", "splash"),
    "mate-dune": _s(SCENERY, "Beach holiday on the dunes", "beach", "sand dunes"),
    "mate-wood": _s(SCENERY, "Wooden floor planks", "wood floor", "planks"),
    "skimage-astronaut": _s(PEOPLE, "Astronaut portrait poster", "astronaut", "NASA"),
    "skimage-hubble-deep-field": _s(SCIENCE, "Deep space galaxy poster", "galaxies", "space"),
    "skimage-immunohistochemistry": _s(SCIENCE, "Microscope slide stain kit", "microscopy", "tissue stain"),
    "skimage-retina": _s(SCIENCE, "Retina scan eye exam", "retina", "eye exam"),
}


def relevance_pairs(pairs_dir: str | Path, photos: Sequence[str]) -> list[dict[str, Any]]:
    """Every (matching, off-topic) pair among ``photos`` (labelled ones with both clean creatives), A = matching.

    Orders alternate (A/B labels balanced); a pair's ``category`` is ``relevance`` and ``family`` the title's.
    """
    root = Path(pairs_dir)
    usable = [p for p in photos if p in SUBJECTS and (root / "images" / p / "v0-clean.jpg").is_file()
              and (root / "images" / p / "v1-clean.jpg").is_file()]
    out = []
    for i, match in enumerate(usable):
        subject = SUBJECTS[match]
        for j, other in enumerate(usable):
            if other == match or SUBJECTS[other].title == subject.title:
                continue  # the other motorcycle view (same title) is no off-topic photo
            a, b = str(root / "images" / match / "v0-clean.jpg"), str(root / "images" / other / "v1-clean.jpg")
            swap = (i + j) % 2 == 1
            out.append({"id": f"relevance-{match}-vs-{other}", "image_a": b if swap else a,
                        "image_b": a if swap else b, "label": "B" if swap else "A", "title": subject.title,
                        "queries": list(subject.queries), "category": "relevance", "family": subject.family,
                        "photo_id": match, "other": other})
    return out


def split_photos(pairs_dir: str | Path) -> dict[str, list[str]]:
    """The quality pairs' train/test photo split (from the pair set's manifest)."""
    manifest = json.loads((Path(pairs_dir) / "manifest.json").read_text(encoding="utf-8"))
    return {s: list(v["photos"]) for s, v in manifest["splits"].items()}
