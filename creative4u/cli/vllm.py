"""``creative4u vllm-serve MODEL [--lora NAME=DIR]``: start vLLM with the right flags for this machine.

>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> add_parser(sub)
"""

from __future__ import annotations

from typing import Any


def add_parser(sub: Any) -> None:
    from creative4u.vllm_launcher import add_vllm_serve_arguments, vllm_serve_command

    p = sub.add_parser("vllm-serve", help="start a vLLM server (GPU vllm or the CPU build) and wait for health")
    add_vllm_serve_arguments(p)
    p.set_defaults(func=vllm_serve_command)
