"""``newsrank serve``: the web page and JSON API on a production WSGI server (waitress);
``newsrank demo``: index the bundled demo news in the background and serve it as soon as
its first segment is committed (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
import os


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve the search page and JSON API")
    _serving_options(serve)
    serve.set_defaults(func=run_serve)

    demo = sub.add_parser(
        "demo",
        help="index the bundled demo news segment by segment in the background, and serve "
        "it from the first committed segment on",
    )
    _serving_options(demo)
    demo.add_argument(
        "--segment-articles",
        type=int,
        default=500,
        metavar="N",
        help="articles per committed segment (default 500)",
    )
    demo.set_defaults(func=run_demo)


def _serving_options(parser: argparse.ArgumentParser) -> None:
    """The options of the server, which ``serve`` and ``demo`` share."""
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
    parser.add_argument(
        "--admin-token-file",
        metavar="FILE",
        default=None,
        help="turn on the write API (POST/DELETE /api/articles) for clients sending "
        "Authorization: Bearer <the token in FILE>; default: NEWSRANK_ADMIN_TOKEN, else off",
    )


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
    config: dict[str, object] = {"INDEX_DIR": args.index, "SETTINGS": settings}
    if args.admin_token_file is not None:
        config["ADMIN_TOKEN"] = read_token(args.admin_token_file)
    app = create_app(config)
    access.configure()  # one line per request on stderr (newsrank.web.access, INFO)
    print(f"newsrank: serving {args.index} at http://{args.host}:{args.port}/", flush=True)
    if config.get("ADMIN_TOKEN") or os.environ.get("NEWSRANK_ADMIN_TOKEN", "").strip():
        print("newsrank: the write API is on (POST/DELETE /api/articles)", flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=threads)
    return 0


def read_token(path: str) -> str:
    """The admin token in ``path``, surrounding whitespace stripped; a missing,
    unreadable or empty file is a :class:`NewsrankError` naming it."""
    from newsrank.errors import NewsrankError

    try:
        with open(path, encoding="utf-8") as fh:
            token = fh.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsrankError(f"cannot read the admin token file {path}: {exc}") from None
    if not token:
        raise NewsrankError(
            f"the admin token file {path} is empty: put a long random secret in it "
            "(e.g. `openssl rand -hex 32 > FILE`)"
        )
    return token


def run_demo(args: argparse.Namespace) -> int:
    """Serve the demo index, building what is missing in a background process.

    A finished index is served at once. Otherwise ``newsrank index build --demo
    --commit-every`` runs as a child process (its log: ``DIR.build.log`` beside the
    index), resuming from the articles a killed build already committed; the server
    starts when the first segment is committed and sees each later one within a second
    (it reopens the newest commit). Stopping the server stops the build; the next
    ``newsrank demo`` resumes it.
    """
    import subprocess
    import sys
    import time
    from pathlib import Path

    from indexer.manifest import MANIFEST, read_format, read_manifest

    index = Path(args.index)
    done = read_format(index) == 2 and not read_manifest(index).progress
    if done:
        return run_serve(args)
    log_path = index.with_name(f"{index.name}.build.log")
    index.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "newsrank", "--precision", args.precision, "index", "build"]
    command += ["--demo", "--index", str(index), "--segment-articles"]
    command += [str(args.segment_articles), "--commit-every", "--json"]
    start = time.monotonic()
    with open(log_path, "ab") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    print(
        f"newsrank: indexing the demo news in the background (log: {log_path}); the page "
        "opens as soon as the first segment is committed",
        flush=True,
    )
    try:
        while read_format(index) != 2 or not (index / MANIFEST).is_file():
            if child.poll() is not None:
                if child.returncode not in (0, 3):
                    tail = log_path.read_text(errors="replace").splitlines()[-15:]
                    print("\n".join(tail), file=sys.stderr)
                    print(f"newsrank demo: the build failed (exit {child.returncode})",
                          file=sys.stderr)  # fmt: skip
                    return 1
                break
            time.sleep(0.5)
        print(f"newsrank: first segment committed after {time.monotonic() - start:.0f} s",
              flush=True)  # fmt: skip
        return run_serve(args)
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait(30)
