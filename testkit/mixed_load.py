"""A mixed load of the task API: clients in three roles, then the export that proves nothing was lost.

Used by tests/function/test_mixed_load.py (the handler on moto, in process) and
bench/mixed_load.py (the same in process, and over HTTP on the local platform). Every client
is one thread with its own ``Sender``; all start at once (a barrier). Roles, as on a working
annotation platform:

* **producers** (10 % of the clients) upload the tasks in batches, back to back; one create
  in five carries a ``client_token`` (a retrying importer's);
* **annotators** (85 %) claim the next task, load it (``get_task``, as the annotation page
  does), then submit a judgement, or release it (10 % of claims, each task at most once)
  and claim again; an empty queue (404) is polled again after 1 s, doubling while it stays
  empty up to 8 s (±50 %), a lost race (409) retried after 10–50 ms;
* **viewers** (5 %: leads and dashboards) list a status page (60 %) or read one task
  (40 %), one request every 0.2–1 s.

The run ends when every created task is completed. Then the completed tasks are exported
through ``list_tasks`` pages, as ``tap export`` does, and :meth:`Outcome.problems` names
anything lost, doubled, answered 5xx or left unfinished.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

from local.apigw import LambdaContext, ProxyRequest, make_event
from testkit.together import released_together
from workspace import patches

#: (status, parsed JSON body or None) of one request; one Sender per client thread.
Sender = Callable[[dict[str, Any]], tuple[int, dict[str, Any] | None]]
#: What DynamoDB does atomically per item and moto does in several Python steps.
ATOMIC_OPERATIONS: Final = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "query",
    "scan",
)
#: Called inside the lock for each DynamoDB request moto serves: (operation, moto's request handler, the call).
Observer = Callable[[str, DynamoHandler, Callable[[], Any]], Any]
#: Called inside the lock with what moto's backend returned for an operation: (operation, result).
BackendResult = Callable[[str, Any], None]
STATUSES: Final = ("pending", "assigned", "completed")
#: A viewer's requests that list a page (the others read one task).
LIST_SHARE: Final = 0.6
#: A task of about 1 KB stored (2–3 responses): docs/capacity.md prices tasks up to that size.
PROMPT: Final = "Which of these replies answers the user's question about compound interest more accurately? " * 2
RESPONSE: Final = "Interest is added to the principal each period, so later interest is earned on earlier interest."


@contextmanager
def atomic_dynamodb(observer: Observer | None = None, on_result: BackendResult | None = None) -> Iterator[None]:
    """One lock around each moto DynamoDB operation, in its request handler and its backend:
    per-item atomicity, as the real service provides (moto alone is not thread-safe). The
    original methods are back afterwards. String comparisons get the emulator's mend
    (``workspace.patches.mend_dynamodb_comparisons``: the same order, Queries over thousands
    of items in milliseconds), which stays for the process."""
    patches.mend_dynamodb_comparisons()
    lock = threading.RLock()
    owners = (DynamoHandler, DynamoDBBackend)
    saved = [(owner, name, getattr(owner, name)) for owner in owners for name in ATOMIC_OPERATIONS]
    for owner, name, original in saved:

        def atomic(
            self: Any, *args: Any, _original: Any = original, _name: str = name, _owner: Any = owner, **kwargs: Any
        ) -> Any:
            with lock:
                if _owner is DynamoHandler:
                    if observer is None:
                        return _original(self, *args, **kwargs)
                    return observer(_name, self, lambda: _original(self, *args, **kwargs))
                result = _original(self, *args, **kwargs)
                if on_result is not None:
                    on_result(_name, result)
                return result

        setattr(owner, name, atomic)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


@dataclass(frozen=True)
class Mix:
    """How many clients of each role, how many tasks, and the share of each choice."""

    clients: int = 1000
    tasks: int = 1000
    producer_share: float = 0.10
    viewer_share: float = 0.05
    token_share: float = 0.2
    release_share: float = 0.10
    seed: int = 21
    #: Starts every prompt of the run: its tasks among others' in a shared deployment.
    tag: str = ""
    #: A run that has not finished by then stops and reports it.
    max_seconds: float = 600.0

    def __post_init__(self) -> None:
        if self.annotators < 1 or self.tasks < 1:
            raise ValueError(f"a mix of {self.clients} clients and {self.tasks} tasks has no annotator or no task")

    @property
    def producers(self) -> int:
        return max(1, round(self.clients * self.producer_share))

    @property
    def viewers(self) -> int:
        return round(self.clients * self.viewer_share)

    @property
    def annotators(self) -> int:
        return self.clients - self.producers - self.viewers


@dataclass
class Outcome:
    """What a run sent and got, and the export after it."""

    #: (action, status, wall milliseconds) of every request of the run.
    records: list[tuple[str, int, float]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    #: Task id -> the feedback whose submit was answered 200.
    submitted: dict[str, dict[str, Any]] = field(default_factory=dict)
    exported: list[dict[str, Any]] = field(default_factory=list)
    #: Tasks still pending or assigned after the run.
    unfinished: int = 0
    wall_seconds: float = 0.0
    timed_out: bool = False

    def statuses(self) -> Counter[tuple[str, int]]:
        return Counter((action, status) for action, status, _ in self.records)

    def problems(self) -> list[str]:
        """Every way the run lost, doubled or failed something (empty: nothing lost)."""
        found = []
        errors = {key: n for key, n in self.statuses().items() if key[1] >= HTTPStatus.INTERNAL_SERVER_ERROR}
        if errors:
            found.append(f"answers 5xx (or none): {errors}")
        if self.timed_out:
            found.append("the run did not finish in time")
        ids = Counter(task["id"] for task in self.exported)
        if doubled := sorted(i for i, n in ids.items() if n > 1):
            found.append(f"{len(doubled)} tasks exported more than once, e.g. {doubled[0]}")
        if lost := sorted(set(self.created) - set(ids)):
            found.append(f"{len(lost)} created tasks missing from the export, e.g. {lost[0]}")
        if extra := sorted(set(ids) - set(self.created)):
            found.append(f"{len(extra)} exported tasks nobody created, e.g. {extra[0]}")
        wrong = [t["id"] for t in self.exported if t.get("feedback") != self.submitted.get(t["id"])]
        if wrong:
            found.append(f"{len(wrong)} exported tasks without the feedback submitted, e.g. {wrong[0]}")
        if self.unfinished:
            found.append(f"{self.unfinished} tasks still pending or assigned")
        return found


def feedback_for(task: dict[str, Any], annotator: str) -> dict[str, Any]:
    """A valid judgement of ``task`` that names who gave it."""
    count = len(task["responses"])
    judgements: dict[str, dict[str, Any]] = {
        "pairwise": {"preferred": count - 1},
        "ranking": {"ranking": list(reversed(range(count)))},
        "rating": {"ratings": [1 + i % 7 for i in range(count)]},
    }
    return {**judgements[task["kind"]], "rationale": f"judged by {annotator}"}


class _Run:
    """The state the client threads share."""

    def __init__(self, mix: Mix) -> None:
        self.mix = mix
        self.outcome = Outcome()
        self.lock = threading.Lock()
        self.released: set[str] = set()
        self.producers_left = mix.producers
        self.deadline = time.monotonic() + mix.max_seconds

    def finished(self) -> bool:
        with self.lock:
            done = self.producers_left == 0 and len(self.outcome.submitted) >= len(self.outcome.created)
        if not done and time.monotonic() > self.deadline:
            self.outcome.timed_out = True
            return True
        return done

    def send(self, sender: Sender, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        began = time.perf_counter()
        status, answer = sender(body)
        with self.lock:
            self.outcome.records.append((body["action"], status, (time.perf_counter() - began) * 1000))
        return status, answer

    def producer(self, sender: Sender, index: int, rng: random.Random) -> None:
        quota = self.mix.tasks // self.mix.producers + (index < self.mix.tasks % self.mix.producers)
        for n in range(quota):
            task = {
                "prompt": f"{self.mix.tag}task {n} of producer {index}: {PROMPT}",
                "responses": [f"{r} {RESPONSE}" for r in ("A", "B", "C")[: 2 + n % 2]],
                "kind": ("pairwise", "ranking", "rating")[n % 3],
                "priority": rng.randint(0, 9),
            }
            body: dict[str, Any] = {"action": "create_task", "task": task}
            if rng.random() < self.mix.token_share:
                body["client_token"] = f"upload-{index}-{n}-{uuid.uuid4().hex[:8]}"
            status, answer = self.send(sender, body)
            if status == HTTPStatus.CREATED and answer:
                with self.lock:
                    self.outcome.created.append(answer["task"]["id"])
        with self.lock:
            self.producers_left -= 1

    def annotator(self, sender: Sender, index: int, rng: random.Random) -> None:
        name = f"annotator-{index}"
        idle = 0.5
        while not self.finished():
            status, answer = self.send(sender, {"action": "claim_task", "annotator_id": name})
            if status == HTTPStatus.OK and answer:
                idle = 0.5
                self._work_on(sender, answer["task"], name, rng)
            elif status == HTTPStatus.CONFLICT:
                time.sleep(rng.uniform(0.01, 0.05))
            else:
                idle = min(2 * idle, 8.0)
                time.sleep(idle * rng.uniform(0.5, 1.5))

    def _work_on(self, sender: Sender, task: dict[str, Any], name: str, rng: random.Random) -> None:
        ident = {"task_id": task["id"], "annotator_id": name}
        self.send(sender, {"action": "get_task", "task_id": task["id"]})
        with self.lock:
            release = task["id"] not in self.released and rng.random() < self.mix.release_share
            if release:
                self.released.add(task["id"])
        if release:
            self.send(sender, {"action": "release_task", **ident})
            return
        feedback = feedback_for(task, name)
        status, _ = self.send(sender, {"action": "submit_feedback", **ident, "feedback": feedback})
        if status == HTTPStatus.OK:
            with self.lock:
                self.outcome.submitted[task["id"]] = feedback

    def viewer(self, sender: Sender, _index: int, rng: random.Random) -> None:
        while not self.finished():
            with self.lock:
                known = rng.choice(self.outcome.created) if self.outcome.created else None
            if known is None or rng.random() < LIST_SHARE:
                self.send(sender, {"action": "list_tasks", "status": rng.choice(STATUSES), "limit": 25})
            else:
                self.send(sender, {"action": "get_task", "task_id": known})
            time.sleep(rng.uniform(0.2, 1.0))


def in_process(containers: list[Any], key: str) -> Callable[[], Sender]:
    """Senders that hand API Gateway's proxy event straight to the real handler, each on one
    of ``containers`` (``function.handler.Runtime``: warm containers), in turn."""
    turn = iter(range(1 << 62))

    def factory() -> Sender:
        container = containers[next(turn) % len(containers)]

        def send(payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
            request_id = str(uuid.uuid4())
            body = json.dumps(payload).encode()
            headers = [("Content-Type", "application/json"), ("X-Api-Key", key)]
            event = make_event(ProxyRequest("POST", "/lambda", headers, body, "192.0.2.10"), "prod", request_id)
            result = container.handle(event, LambdaContext(aws_request_id=request_id))
            return result["statusCode"], json.loads(result["body"])

        return send

    return factory


def export(sender: Sender, status: str = "completed") -> list[dict[str, Any]]:
    """Every task of ``status``, page by page through ``list_tasks`` (what ``tap export`` does)."""
    tasks: list[dict[str, Any]] = []
    token = None
    while True:
        body: dict[str, Any] = {"action": "list_tasks", "status": status, "limit": 100}
        if token:
            body["next_token"] = token
        code, page = sender(body)
        if code != HTTPStatus.OK or page is None:
            raise AssertionError(f"list_tasks {status} answered {code}: {page}")
        tasks += page["tasks"]
        token = page.get("next_token")
        if not token:
            return tasks


def run(mix: Mix, make_sender: Callable[[], Sender]) -> Outcome:
    """Run ``mix`` with one sender per client, then export; see :meth:`Outcome.problems`."""
    shared = _Run(mix)
    roles = [shared.producer] * mix.producers + [shared.annotator] * mix.annotators + [shared.viewer] * mix.viewers
    senders = [make_sender() for _ in roles]

    def client(index: int) -> None:
        roles[index](senders[index], index, random.Random(mix.seed * 100_003 + index))

    outcome = shared.outcome
    outcome.wall_seconds = released_together(len(roles), client)
    reader = make_sender()

    def ours(status: str) -> list[dict[str, Any]]:
        return [task for task in export(reader, status) if task["prompt"].startswith(mix.tag)]

    outcome.exported = ours("completed")
    outcome.unfinished = len(ours("pending")) + len(ours("assigned"))
    return outcome
