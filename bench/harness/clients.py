"""The clients: python-socketio AsyncClients held by asyncio loops in processes of their own."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from typing import Any

from bench.harness.people import Follower

NOTIFICATION, ACTIVITY = "n", "a"


async def hold_clients(conn: Any, followers: list[Follower]) -> None:
    """Connect one AsyncClient per follower, record what they receive, obey `conn`'s orders.

    A receipt is (time.time(), user id, "n" and the notification id, or "a" and the initiative
    id of an activity).
    """
    import socketio

    receipts: list[tuple[float, int, str, int]] = []
    clients: list[tuple[Follower, Any]] = []
    gate = asyncio.Semaphore(25)

    def listen(follower: Follower) -> Any:
        client = socketio.AsyncClient(reconnection=False)
        uid = follower.user_id
        client.on("notification",
                  lambda data: receipts.append((time.time(), uid, NOTIFICATION, data["id"])))
        client.on("activity", lambda data: receipts.append(
            (time.time(), uid, ACTIVITY, data["initiative_id"])))
        return client

    async def connect(follower: Follower) -> None:
        client = listen(follower)
        async with gate:
            await client.connect(follower.url, auth={"token": follower.token},
                                 transports=["websocket"], wait_timeout=30)
        clients.append((follower, client))

    async def rooms(event: str) -> int:
        answers = await asyncio.gather(*(
            client.call(event, {"rooms": [f"theme:{follower.theme}"]}, timeout=30)
            for follower, client in clients))
        return sum(len(answer["rooms"]) for answer in answers)

    failures = [repr(error) for error in await asyncio.gather(
        *(connect(follower) for follower in followers), return_exceptions=True) if error]
    conn.send(("connected", len(clients), failures[:3]))
    loop = asyncio.get_running_loop()
    while True:
        order = await loop.run_in_executor(None, conn.recv)
        if order == "count":
            conn.send((sum(1 for r in receipts if r[2] == NOTIFICATION),
                       sum(1 for r in receipts if r[2] == ACTIVITY)))
        elif order == "collect":
            conn.send(receipts[:])
            receipts.clear()
        elif order in ("subscribe", "unsubscribe"):
            conn.send(await rooms(order))
        elif order == "stop":
            await asyncio.gather(*(client.disconnect() for _follower, client in clients),
                                 return_exceptions=True)
            conn.send("stopped")
            return


def client_process(conn: Any, followers: list[Follower]) -> None:
    asyncio.run(hold_clients(conn, followers))


class Audience:
    """The client processes, each holding an asyncio loop of clients, driven through pipes."""

    def __init__(self, followers: list[Follower], processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for number in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(target=client_process, daemon=True,
                                      args=(theirs, followers[number::processes]))
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
        replies = [self._receive(pipe, 120) for pipe in self.pipes]
        self.connected = sum(reply[1] for reply in replies)
        failures = [failure for reply in replies for failure in reply[2]]
        if self.connected != len(followers):
            raise RuntimeError(f"{self.connected} of {len(followers)} clients connected: "
                               f"{failures}")

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes if process.pid]

    @staticmethod
    def _receive(pipe: Any, timeout: float) -> Any:
        if not pipe.poll(timeout):
            raise RuntimeError(f"a client process did not answer within {timeout} s")
        return pipe.recv()

    def ask(self, order: str, timeout: float = 120) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(order)
        return [self._receive(pipe, timeout) for pipe in self.pipes]

    def counts(self) -> tuple[int, int]:
        replies = self.ask("count")
        return sum(r[0] for r in replies), sum(r[1] for r in replies)

    def collect(self) -> list[tuple[float, int, str, int]]:
        """Return the receipts since the last collect, and forget them."""
        return [receipt for reply in self.ask("collect") for receipt in reply]

    def close(self) -> None:
        for process, pipe in zip(self.processes, self.pipes, strict=True):
            if process.is_alive():
                try:
                    pipe.send("stop")
                    pipe.poll(30)
                except OSError:
                    pass
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()

    def await_deliveries(self, notifications: int, activities: int = 0,
                         quiet: float = 10, limit: float = 300) -> None:
        """Wait until the counts are reached, or nothing came for `quiet` s, or `limit` s."""
        started = last_change = time.monotonic()
        seen = (-1, -1)
        while time.monotonic() - started < limit:
            counts = self.counts()
            if counts[0] >= notifications and counts[1] >= activities:
                return
            if counts != seen:
                seen, last_change = counts, time.monotonic()
            elif time.monotonic() - last_change > quiet:
                return
            time.sleep(0.2)
