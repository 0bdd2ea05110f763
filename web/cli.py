"""``newsrank serve``: the web page and JSON API on a production WSGI server (waitress)."""

from __future__ import annotations

import argparse
import os


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="serve the search page and JSON API")
    parser.add_argument("--index", required=True, metavar="DIR")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="WSGI worker threads (default: the searches allowed to run and wait, plus 4, "
        "so that past them a request is answered 503 at once instead of queueing)",
    )
    parser.add_argument(
        "--max-searches", type=int, default=None, help="searches running at once (default 2)"
    )
    parser.add_argument(
        "--max-queued", type=int, default=None, help="searches waiting for a slot (default 8)"
    )
    parser.add_argument(
        "--log-queries",
        action="store_true",
        help="put the query string (the search text) in the access log; left out by default",
    )
    parser.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import dataclasses

    import waitress

    from newsrank.config import HeadsConfig, Settings, WebConfig
    from web import access, create_app

    web = WebConfig()
    if args.max_searches is not None or args.max_queued is not None:
        web = dataclasses.replace(
            web,
            max_searches=args.max_searches or web.max_searches,
            max_queued=web.max_queued if args.max_queued is None else args.max_queued,
        )
    if args.log_queries:
        web = dataclasses.replace(web, log_queries=True)
    settings = Settings(heads=HeadsConfig(precision=args.precision), web=web)
    threads = args.threads or web.max_searches + web.max_queued + 4
    app = create_app({"INDEX_DIR": args.index, "SETTINGS": settings})
    access.configure()  # one line per request on stderr (newsrank.web.access, INFO)
    print(f"newsrank: serving {args.index} at http://{args.host}:{args.port}/", flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=threads)
    return 0
