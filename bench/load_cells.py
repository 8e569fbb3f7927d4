"""One row of the local load benchmark: requests from N client threads, timed one by one.

A :class:`Cell` holds what a row measured; :func:`run_cell` sends the requests through a
``Sender`` (over HTTP, or straight to the handler) and records latency and status of each.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from local.api_server import Handler
from local.apigw import LambdaContext, ProxyRequest, make_event
from testkit.together import released_together

#: (status, parsed JSON body or None) of one request.
Sender = Callable[[dict[str, Any]], tuple[int, dict[str, Any] | None]]
#: Status recorded when a request got no answer at all.
NO_ANSWER = 599
MAX_PRIORITY = 9


@dataclass
class Pool:
    """Task ids created during the run: ``get`` reads them, ``claim`` takes pending ones."""

    ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, task_id: str) -> None:
        with self.lock:
            self.ids.append(task_id)

    def any(self) -> str:
        with self.lock:
            return random.choice(self.ids)

    def __len__(self) -> int:
        with self.lock:
            return len(self.ids)


def body_for(action: str, pool: Pool, worker: int) -> dict[str, Any]:
    if action == "create":
        return {
            "action": "create_task",
            "task": {
                "kind": "pairwise",
                "prompt": f"bench prompt {uuid.uuid4()}",
                "responses": ["first answer", "second answer"],
                "priority": random.randint(0, MAX_PRIORITY),
                "metadata": {"source": "bench"},
            },
        }
    if action == "claim":
        return {"action": "claim_task", "annotator_id": f"bench-annotator-{worker}"}
    if action == "get":
        return {"action": "get_task", "task_id": pool.any()}
    raise ValueError(action)


@dataclass
class Cell:
    action: str
    clients: int
    path: str
    #: Tasks created by the benchmark before this row started (all stay in the table).
    tasks_before: int
    latencies_ms: list[float]
    statuses: dict[int, int]
    wall_seconds: float
    #: Ids of the tasks successful claims were given.
    claimed: list[str] = field(default_factory=list)

    @property
    def twice(self) -> int:
        """Tasks handed to more than one successful claim of this row."""
        return len(self.claimed) - len(set(self.claimed))

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES)

    @property
    def rejected(self) -> int:
        return len(self.latencies_ms) - self.ok

    def percentile(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        rank = max(1, round(q / 100 * len(data) + 0.5))  # nearest rank
        return data[min(rank, len(data)) - 1]

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_seconds if self.wall_seconds else 0.0


@dataclass(frozen=True)
class Row:
    """What one cell is asked to do."""

    action: str
    clients: int
    path: str
    requests: int
    max_seconds: float


def run_cell(row: Row, make_sender: Callable[[], Sender], pool: Pool) -> Cell:
    """``row.requests`` requests spread over ``row.clients`` threads; stops early after ``row.max_seconds``."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    claimed: list[str] = []
    lock = threading.Lock()
    counter = iter(range(row.requests))
    deadline = time.monotonic() + row.max_seconds
    tasks_before = len(pool)
    senders = [make_sender() for _ in range(row.clients)]

    def worker(index: int) -> None:
        send = senders[index]
        while time.monotonic() < deadline:
            with lock:
                if next(counter, None) is None:
                    return
            payload = body_for(row.action, pool, index)
            began = time.perf_counter()
            status, body = send(payload)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
            if row.action == "create" and status == HTTPStatus.CREATED and body:
                pool.add(body["task"]["id"])
            if row.action == "claim" and status == HTTPStatus.OK and body:
                with lock:
                    claimed.append(body["task"]["id"])

    wall = released_together(row.clients, worker)
    return Cell(row.action, row.clients, row.path, tasks_before, latencies, statuses, wall, claimed)


def http_sender_factory(url: str, key: str) -> Callable[[], Sender]:
    """Senders over keep-alive HTTP, one connection per client thread."""
    parts = urllib.parse.urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path

    def factory() -> Sender:
        conn = http.client.HTTPConnection(host, port, timeout=60)

        def send(payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
            nonlocal conn
            data = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", "x-api-key": key}
            for _attempt in range(2):  # one retry on a dropped keep-alive connection
                try:
                    conn.request("POST", path, body=data, headers=headers)
                    response = conn.getresponse()
                    raw = response.read()
                except (http.client.HTTPException, OSError):
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=60)
                    continue
                try:
                    return response.status, json.loads(raw)
                except ValueError:
                    return response.status, None
            return NO_ANSWER, None

        return send

    return factory


def direct_sender_factory(handler: Handler, key: str, function_name: str) -> Callable[[], Sender]:
    """Senders that hand the same proxy event straight to the handler, in this process."""

    def factory() -> Sender:
        def send(payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
            request_id = str(uuid.uuid4())
            body = json.dumps(payload).encode()
            headers = [
                ("Host", "127.0.0.1"),
                ("Content-Type", "application/json"),
                ("x-api-key", key),
                ("Content-Length", str(len(body))),
            ]
            event = make_event(ProxyRequest("POST", "/lambda", headers, body, "127.0.0.1"), "local", request_id)
            context = LambdaContext(function_name=function_name, timeout_seconds=15, aws_request_id=request_id)
            result = handler(event, context)
            try:
                return result["statusCode"], json.loads(result["body"])
            except (KeyError, TypeError, ValueError):
                return NO_ANSWER, None

        return send

    return factory
