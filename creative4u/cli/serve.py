"""``creative4u serve`` (the OpenAI-compatible gateway) and ``creative4u demo`` (the Gradio page).

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_parser(parser.add_subparsers())
>>> args = parser.parse_args(["serve", "--port", "9000", "--set", "max_images=4"])
>>> args.port, args.overrides
(9000, ['max_images=4'])

Both read the same YAML config (``serve/gateway.yaml``) through :mod:`creative4u.config`: ``--set key=value``
overrides any field (dotted keys for nested ones, e.g. ``--set backends.vllm.fallback=feature``) and wins over
``--host`` / ``--port`` / ``--no-auth``; ``--help-config`` lists every field. FastAPI, uvicorn and Gradio are
imported only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from creative4u.config import add_config_arguments, config_from_args


def add_parser(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the OpenAI-compatible HTTP gateway",
        description="Serve creative4u over HTTP: /v1/chat/completions, /v1/creatives/{select,check}, /metrics.",
    )
    _common(serve, port_help="TCP port (default: the config's port, 8000)")
    serve.add_argument("--no-auth", action="store_true", help="accept requests without an API key (local use only)")
    serve.set_defaults(func=run_serve)

    demo = sub.add_parser(
        "demo",
        help="run the Gradio demo for advertisers",
        description="Upload 2..N creatives and see the winner, the ranking, the reasoning and every check's evidence.",
    )
    _common(demo, port_help="TCP port (default: the config's demo_port, 7860)")
    demo.set_defaults(func=run_demo)


def _common(p: argparse.ArgumentParser, port_help: str) -> None:
    from creative4u.serve.config import GatewayConfig

    p.add_argument("--host", default=None, help="address to bind (default: the config's host, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help=port_help)
    add_config_arguments(p, GatewayConfig)


def _config(args: argparse.Namespace, port_field: str) -> Any:
    from creative4u.serve.config import GatewayConfig

    no_auth = getattr(args, "no_auth", False)
    extra = {"host": args.host, port_field: args.port, "require_auth": False if no_auth else None}
    return config_from_args(GatewayConfig, args, extra).validate()


def run_serve(args: argparse.Namespace) -> int:
    try:
        from creative4u.serve.api_server import run_server
    except ImportError as err:
        raise RuntimeError(f"the gateway needs the serve extra: pip install 'creative4u[serve]' ({err})") from None
    run_server(_config(args, "port"))
    return 0


def run_demo(args: argparse.Namespace) -> int:
    try:
        from creative4u.serve.demo import launch_demo
    except ImportError as err:
        raise RuntimeError(f"the demo needs the demo extra: pip install 'creative4u[demo]' ({err})") from None
    launch_demo(_config(args, "demo_port"))
    return 0
