"""Many visitors at once on `maillage serve`, each loading pages while holding a live socket.

What `make run` starts, measured: a scratch instance folder (SQLite, jobs in the web process,
no Redis) gets the demo network (`maillage db upgrade`, `maillage demo`), and `maillage serve`
serves it on a free loopback port (gunicorn, one gevent worker). Each client, an asyncio task
of this process, opens a Socket.IO connection over WebSocket, joins the public rooms of a
theme and of the help requests, then loads the home page, /initiatives, /figures and a demo
initiative, one after the other, `--rounds` times, reading each for `--pause` seconds (0:
flat out, to find the server's ceiling), and closes its socket only once every client is
done. Before them, one client alone loads the same pages flat out: the baseline of what a
page costs without waiting. Prints JSON for each: the requests served, the errors (an answer
other than 200, a failed request, a socket that could not connect or dropped; there must be
none, else the exit status is 1), the latency of the pages (median, p95, max, and the median
of each page), the CPU the server's processes used for each request and how many cores they
kept busy (a shared machine starves them); and what the server wrote on its standard error
beside its start and stop.

    .venv/bin/python bench/serve_clients.py                 # 50 clients, 4 rounds, 15 s a page
    .venv/bin/python bench/serve_clients.py --clients 100 --pause 0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import requests
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness.cpu import cpu_seconds, process_tree
from tests.support.net import free_port, wait_for

MAILLAGE = Path(sys.executable).parent / "maillage"
ROOMS = ["theme:cybersecurite", "help"]
# gunicorn's own lines about its start and stop; any other line of the server is reported.
STARTING_AND_STOPPING = ("Starting gunicorn", "Listening at", "Using worker", "Booting worker",
                         "Handling signal", "Worker exiting", "Shutting down")


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    sockets_held: int = 0


@contextmanager
def served(instance: Path) -> Iterator[tuple[str, int, list[str]]]:
    """`maillage serve` on a free port over `instance`, with the demo loaded; yields its URL,
    its process id (gunicorn's master, whose child is the worker) and, once it stopped, the
    lines of its standard error other than its start and stop."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "SMTP_URL", "MAILLAGE_ENV"}}
    env |= {"MAILLAGE_INSTANCE": str(instance), "LOG_FORMAT": "text"}
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run([str(MAILLAGE), *command], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    port = free_port()
    log = instance / "serve.log"
    with open(log, "wb") as errors:
        server = subprocess.Popen([str(MAILLAGE), "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=errors)
    other_lines: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/v1/themes", seconds=120)
        yield url, server.pid, other_lines
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        other_lines += [line for line in log.read_text(encoding="utf-8").splitlines()
                        if not any(sign in line for sign in STARTING_AND_STOPPING)]


async def client(url: str, pages: dict[str, str], rounds: int, pause: float,
                 results: Results, all_loaded: asyncio.Event, loading: list[int]) -> None:
    """One visitor: a socket held open over WebSocket while it loads `pages` `rounds` times,
    `pause` seconds between two pages."""
    sio = socketio.AsyncClient(reconnection=False)
    dropped: list[str] = []
    sio.on("disconnect", lambda reason=None: dropped.append(str(reason)))
    try:
        await sio.connect(url, transports=["websocket"], wait_timeout=30)
        joined = await sio.call("subscribe", {"rooms": ROOMS}, timeout=30)
        if sorted(joined["rooms"]) != sorted(ROOMS):
            results.errors.append(f"rooms joined: {joined}")
    except (socketio.exceptions.SocketIOError, OSError) as error:
        results.errors.append(f"socket: {error!r}")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for _ in range(rounds):
            for name, path in pages.items():
                await asyncio.sleep(pause)
                start = time.perf_counter()
                try:
                    async with http.get(url + path) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as error:
                    results.errors.append(f"{path}: {error!r}")
                    continue
                results.latencies[name].append(time.perf_counter() - start)
                if status != 200:
                    results.errors.append(f"{path}: {status}")
    loading[0] -= 1
    if not loading[0]:
        all_loaded.set()
    await all_loaded.wait()  # the sockets stay open until the last client is done
    if sio.connected:
        results.sockets_held += 1
        await sio.disconnect()
    elif dropped:
        results.errors.append(f"socket dropped: {dropped[0]}")


async def visit(url: str, server: int, pages: dict[str, str], clients: int, rounds: int,
                pause: float) -> dict[str, Any]:
    """`clients` visitors at once, each loading `pages` `rounds` times; with the CPU time the
    server's processes used meanwhile, which the other work of a shared machine leaves be."""
    results = Results()
    all_loaded, loading = asyncio.Event(), [clients]
    processes = process_tree([server])
    cpu = sum(cpu_seconds(pid) or 0 for pid in processes)
    start = time.perf_counter()
    await asyncio.gather(*(client(url, pages, rounds, pause, results, all_loaded, loading)
                           for _ in range(clients)))
    elapsed = time.perf_counter() - start
    cpu = sum(cpu_seconds(pid) or 0 for pid in processes) - cpu
    samples = [s for page in results.latencies.values() for s in page]
    return {
        "clients": clients, "requests_served": len(samples), "errors": len(results.errors),
        "first_errors": results.errors[:10], "sockets_held_to_the_end": results.sockets_held,
        "seconds": round(elapsed, 1), "requests_per_second": round(len(samples) / elapsed, 1),
        "server_cpu_ms_per_request": _ms(cpu / len(samples)),
        "server_cores_used": round(cpu / elapsed, 2),
        "latency_ms": {"median": _ms(statistics.median(samples)),
                       "p95": _ms(statistics.quantiles(samples, n=20, method="inclusive")[18]),
                       "max": _ms(max(samples)),
                       "median_by_page": {name: _ms(statistics.median(page))
                                          for name, page in results.latencies.items()}},
    }


async def measure(url: str, server: int, clients: int, rounds: int,
                  pause: float) -> dict[str, Any]:
    """The crowd, and before it one visitor alone: what a page costs without waiting."""
    initiative = requests.get(f"{url}/api/v1/initiatives", timeout=30).json()["items"][0]["id"]
    pages = {"home": "/", "initiatives": "/initiatives", "figures": "/figures",
             "initiative": f"/initiatives/{initiative}"}
    alone = await visit(url, server, pages, 1, rounds, 0)
    return {"rounds": rounds, "pause_s": pause, "pages": pages,
            "crowd": await visit(url, server, pages, clients, rounds, pause), "alone": alone}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="visitors at once (50)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="times each visitor loads the four pages (4)")
    parser.add_argument("--pause", type=float, default=15.0,
                        help="seconds a visitor reads a page before the next (15; 0: flat out)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        with served(Path(folder)) as (url, server, server_lines):
            report = asyncio.run(measure(url, server, args.clients, args.rounds, args.pause))
        report["server_stderr_other_lines"] = server_lines[:20]
    print(json.dumps(report, indent=2, ensure_ascii=False))
    runs = (report["crowd"], report["alone"])
    if any(run["errors"] or run["sockets_held_to_the_end"] != run["clients"] for run in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
