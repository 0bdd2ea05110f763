"""``newsrank serve``: the web page and JSON API on a production WSGI server (waitress)."""

from __future__ import annotations

import argparse
import os


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="serve the search page and JSON API")
    parser.add_argument("--index", required=True, metavar="DIR")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--threads", type=int, default=4, help="WSGI worker threads")
    parser.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import waitress

    from newsrank.config import HeadsConfig, Settings
    from web import create_app

    settings = Settings(heads=HeadsConfig(precision=args.precision))
    app = create_app({"INDEX_DIR": args.index, "SETTINGS": settings})
    print(f"newsrank: serving {args.index} at http://{args.host}:{args.port}/", flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads)
    return 0
