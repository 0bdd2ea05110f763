"""Load test of a running server on loopback: concurrent clients for a fixed time.

    python benchmarks/load.py --index var/index --clients 8,32 --seconds 60 [--json]

Starts ``newsrank serve`` on 127.0.0.1 (a free port; the product's defaults: waitress,
the admission gate and the time budget of ``WebConfig``), waits for ``/api/health``,
then for each client count runs that many threads, each sending ``/api/search``
requests (queries of ``benchmarks/queries.txt`` in turn) over its own keep-alive
connection until the time is up; a refused client sends its next request at once
(it does not sleep ``Retry-After``: the harshest case for the server), or with
``--polite`` waits the ``Retry-After`` seconds first, as a well-behaved client does. Reports per
run: requests, q/s of answered searches, HTTP 200s, deliberate 503s (the admission
gate), anything else (errors: must be 0), the share of answers with ``degraded``
stages, and p50/p95/p99 of the 200s and of the 503s. Only loopback addresses are
used; every loop is bounded by ``--seconds`` and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from evaluation.latency import percentiles, read_queries  # noqa: E402
from evaluation.report import provenance  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 300) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before answering")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return time.monotonic() - start
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"no healthy server on port {port} after {timeout} s")


def client(
    port: int, queries: list[str], until: float, out: list, offset: int, polite: bool = False
) -> None:
    """One client's loop; ``polite``: after a 503 it waits the ``Retry-After`` seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    i = offset
    while time.monotonic() < until:
        path = "/api/search?" + urllib.parse.urlencode({"q": queries[i % len(queries)]})
        i += 1
        t = time.perf_counter()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            ms = (time.perf_counter() - t) * 1000
            degraded = bool(json.loads(body).get("degraded")) if resp.status == 200 else False
            out.append((resp.status, ms, degraded))
            if polite and resp.status == 503:
                wait = float(resp.headers.get("Retry-After") or 1)
                time.sleep(max(0.0, min(wait, until - time.monotonic())))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            out.append((f"error: {type(exc).__name__}", (time.perf_counter() - t) * 1000, False))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.close()


def run(port: int, queries: list[str], clients: int, seconds: float, polite: bool = False) -> dict:
    results: list[list] = [[] for _ in range(clients)]
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client, args=(port, queries, until, results[c], c * 7, polite))
        for c in range(clients)
    ]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + 120)
    wall = time.perf_counter() - t
    flat = [r for rs in results for r in rs]
    codes = Counter(str(code) for code, _, _ in flat)
    ok = [ms for code, ms, _ in flat if code == 200]
    busy = [ms for code, ms, _ in flat if code == 503]
    return {
        "clients": clients,
        "polite": polite,
        "seconds": round(wall, 1),
        "requests": len(flat),
        "answered_qps": round(len(ok) / wall, 2),
        "status": dict(codes),
        "errors": sum(n for code, n in codes.items() if code not in ("200", "503")),
        "degraded_share": round(sum(d for _, _, d in flat) / len(ok), 3) if ok else 0.0,
        "latency_200": percentiles(ok) if ok else {},
        "latency_503": percentiles(busy) if busy else {},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="var/index")
    ap.add_argument("--queries", default=str(HERE / "queries.txt"))
    ap.add_argument("--clients", default="8,32")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--polite", action="store_true", help="clients wait Retry-After after a 503")
    ap.add_argument("serve_args", nargs="*", help="extra `newsrank serve` arguments (after --)")
    args = ap.parse_args(argv)
    queries = read_queries(args.queries)
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "newsrank", "serve", "--index", args.index]
    server = subprocess.Popen(
        [*cmd, "--host", "127.0.0.1", "--port", str(port), *args.serve_args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        start_s = wait_healthy(port, server)
        run(port, queries, 2, min(10.0, args.seconds))  # warm-up
        report = {
            "provenance": provenance(" ".join(["python benchmarks/load.py", *sys.argv[1:]])),
            "server_start_s": round(start_s, 1),
            "runs": [
                run(port, queries, int(c), args.seconds, args.polite)
                for c in args.clients.split(",")
            ],
        }
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"machine: {report['provenance']['machine']}; server start {start_s:.1f} s")
        for r in report["runs"]:
            lat = r["latency_200"]
            print(
                f"{r['clients']:3d} clients, {r['seconds']} s: {r['requests']} requests, "
                f"{r['answered_qps']} answered/s, status {r['status']}, errors {r['errors']}, "
                f"degraded {r['degraded_share']:.1%}; 200s p50/p95/p99 "
                f"{lat.get('p50_ms')}/{lat.get('p95_ms')}/{lat.get('p99_ms')} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
