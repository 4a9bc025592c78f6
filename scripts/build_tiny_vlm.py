"""Build a tiny random Qwen-VL model (and optionally a LoRA adapter for it) in a folder, offline.

    python scripts/build_tiny_vlm.py /tmp/tiny                      # Qwen2.5-VL
    python scripts/build_tiny_vlm.py /tmp/tiny2 --arch qwen2_vl --seed 1
    python scripts/build_tiny_vlm.py /tmp/tiny --lora /tmp/tiny-lora  # + a random LoRA adapter

The folder loads with `transformers.AutoModelForImageTextToText`, `creative4u.models.load_vlm` and vLLM.
"""

from __future__ import annotations

import argparse
import time

from creative4u.testing.tiny_vlm import ARCHS, build_tiny_lora, build_tiny_vlm


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build, and print what was written.

    >>> import tempfile
    >>> main([tempfile.mkdtemp(), "--arch", "qwen2_vl"])  # doctest: +ELLIPSIS
    tiny qwen2_vl model in ...
    0
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="folder to write (created if missing)")
    parser.add_argument("--arch", choices=ARCHS, default="qwen2_5_vl", help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="weights seed (default: %(default)s)")
    parser.add_argument("--lora", metavar="DIR", default=None, help="also write a random LoRA adapter here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    path = build_tiny_vlm(args.out_dir, arch=args.arch, seed=args.seed)
    size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    print(f"tiny {args.arch} model in {path} ({size / 1e6:.2f} MB, {time.perf_counter() - start:.1f} s)")
    if args.lora:
        adapter = build_tiny_lora(path, args.lora, seed=args.seed)
        print(f"LoRA adapter in {adapter}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
