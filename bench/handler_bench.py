"""Benchmark of the task API handler: latency per action, AWS calls, cold import, zip size.

Runs the real handler in-process against moto (no network), so latencies are the
handler's own cost plus moto's, not DynamoDB's; they are for comparing versions of the
handler, not for capacity planning. AWS calls are counted with botocore ``before-call``
hooks on the handler's own clients. Cold import is measured from the built zip, extracted,
in fresh interpreters (bench/cold_import.py); ``--compare ZIP`` measures another build
(e.g. a previous version's ``build/function.zip``) alternating with this one.

    .venv/bin/python -m bench.handler_bench [--iterations 200] [--imports 7] [--out docs/benchmarks-handler.md]
    .venv/bin/python -m bench.handler_bench --compare /tmp/before/build/function.zip --imports 21 --out /tmp/h.md
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore
import moto
from moto import mock_aws

from bench.cold_import import (
    ColdImport,
    ZipContents,
    alternate,
    build_current,
    compare_markdown,
    extract,
    measure,
    zip_contents,
)
from function import contract
from local.apigw import LambdaContext, ProxyRequest, make_event

ROOT = Path(__file__).resolve().parents[1]

TABLE, BUCKET, SECRET, KEY = "bench-tasks", "bench-audit", "bench/api-keys", "bench-key-0123456789"
TARGET_COLD_IMPORT_MS = 150.0
TARGET_CALLS = 3
PAST = "2000-01-01T00:00:00.000000Z"
EXPIRED_LEASE = "claim_task (expired lease)"


@dataclass
class ActionStats:
    name: str
    samples_ms: list[float] = field(default_factory=list)
    calls: set[tuple[str, ...]] = field(default_factory=set)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _isolated_env() -> None:
    """Fake credentials, no endpoint override: everything stays inside moto."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        DYNAMODB_TABLE=TABLE,
        LOG_BUCKET=BUCKET,
        API_KEY_SECRET=SECRET,
    )


def _event(body: dict[str, Any], key: str = KEY) -> dict[str, Any]:
    """The proxy event API Gateway sends for ``POST /lambda`` with this JSON body."""
    headers = [("X-Api-Key", key), ("Content-Type", "application/json")]
    request = ProxyRequest("POST", "/lambda", headers, json.dumps(body).encode(), "192.0.2.1")
    return make_event(request, "bench", str(uuid.uuid4()))


def table_kwargs(name: str) -> dict[str, Any]:
    """``create_table`` arguments for the task table as ``function.contract`` defines it."""
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    indexes = []
    for index in contract.INDEXES:
        projection: dict[str, Any] = {"ProjectionType": index.projection_type}
        if index.non_key_attributes:
            projection["NonKeyAttributes"] = list(index.non_key_attributes)
        keys = [
            {"AttributeName": index.hash_key, "KeyType": "HASH"},
            {"AttributeName": index.range_key, "KeyType": "RANGE"},
        ]
        indexes.append(
            {"IndexName": index.name, "KeySchema": keys, "Projection": projection, "ProvisionedThroughput": throughput}
        )
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": contract.HASH_KEY, "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": contract.KEY_ATTRIBUTE_TYPE}
            for attribute in contract.key_attributes()
        ],
        "ProvisionedThroughput": throughput,
        "GlobalSecondaryIndexes": indexes,
    }


def measure_actions(iterations: int) -> tuple[list[ActionStats], float]:
    """Warm-path latency and AWS calls per action; also the first (cold) request."""
    # After _isolated_env(), as Lambda sets the environment before the import.
    from function import handler  # noqa: PLC0415

    context = LambdaContext(function_name="bench-task-api")

    stats: dict[str, ActionStats] = {}
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        boto3.client("dynamodb").create_table(**table_kwargs(TABLE))
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps({"api_keys": [KEY]}))
        ddb = boto3.client("dynamodb")

        handler.reset_caches()
        started = time.perf_counter()
        handler.lambda_handler(_event({"action": "list_tasks"}), context)
        first_request_ms = (time.perf_counter() - started) * 1000

        runtime = handler.runtime()
        calls: list[str] = []
        for client in (runtime.dynamodb, runtime.s3, runtime.secretsmanager):
            service = client.meta.service_model.service_name
            client.meta.events.register(
                "before-call", lambda model, _s=service, **_: calls.append(f"{_s}.{model.name}")
            )

        def timed(name: str, body: dict[str, Any], key: str = KEY) -> dict[str, Any]:
            calls.clear()
            start = time.perf_counter()
            result = handler.lambda_handler(_event(body, key), context)
            elapsed = (time.perf_counter() - start) * 1000
            entry = stats.setdefault(name, ActionStats(name))
            entry.samples_ms.append(elapsed)
            entry.calls.add(tuple(calls))
            answer: dict[str, Any] = json.loads(result["body"])
            return answer

        task = {"prompt": "Which reply is more helpful?", "responses": ["first", "second"], "priority": 5}
        timed("create_task (client_token)", {"action": "create_task", "task": task, "client_token": "replayed"})
        for i in range(iterations):
            created = timed("create_task", {"action": "create_task", "task": task})["task"]
            timed("create_task (client_token)", {"action": "create_task", "task": task, "client_token": f"t-{i}"})
            timed("create_task (replay)", {"action": "create_task", "task": task, "client_token": "replayed"})
            timed("get_task", {"action": "get_task", "task_id": created["id"]})
            timed("list_tasks", {"action": "list_tasks", "status": "pending", "limit": 25})
            claimed = timed("claim_task (next)", {"action": "claim_task", "annotator_id": "a1"})["task"]
            timed("release_task", {"action": "release_task", "task_id": claimed["id"], "annotator_id": "a1"})
            timed("claim_task (by id)", {"action": "claim_task", "annotator_id": "a2", "task_id": claimed["id"]})
            fb = {"preferred": 1, "rationale": "clearer"}
            timed(
                "submit_feedback",
                {"action": "submit_feedback", "task_id": claimed["id"], "annotator_id": "a2", "feedback": fb},
            )
            timed("rejected (403)", {"action": "list_tasks"}, key="wrong-key")
        # Claim with nothing pending: the handler falls back to the expired leases.
        pending = ddb.query(
            TableName=TABLE,
            IndexName="status-created-index",
            KeyConditionExpression="#s = :p",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":p": {"S": "pending"}},
        )["Items"]
        for item in pending:
            handler.lambda_handler(
                _event({"action": "claim_task", "annotator_id": "drain", "task_id": item["id"]["S"]}), context
            )
        for item in pending[:iterations]:
            task_id = item["id"]["S"]
            ddb.update_item(
                TableName=TABLE,
                Key={"id": {"S": task_id}},
                UpdateExpression="SET lease_expires_at = :p, queue_key = :q",
                ExpressionAttributeValues={":p": {"S": PAST}, ":q": {"S": f"{PAST}#{task_id}"}},
            )
            timed(EXPIRED_LEASE, {"action": "claim_task", "annotator_id": "a3"})
        handler.reset_caches()
    return list(stats.values()), first_request_ms


def render(
    stats: list[ActionStats], first_ms: float, imports: list[ColdImport], package: ZipContents, iterations: int
) -> str:
    """The report: latency and calls per action, then the measured metrics (cold import from the zip)."""
    cold = statistics.median(i.total_ms for i in imports)
    sdk = statistics.median(i.sdk_ms for i in imports)
    own = statistics.median(i.own_ms for i in imports)
    expired = next(s for s in stats if s.name == EXPIRED_LEASE)
    expired_calls = "/".join(str(n) for n in sorted({len(c) for c in expired.calls}))
    warm_max = max(max(len(c) for c in s.calls) for s in stats if s is not expired)
    lines = [
        "# Handler benchmarks",
        "",
        f"Measured by `bench/handler_bench.py` on {time.strftime('%Y-%m-%d', time.gmtime())}: Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, botocore {botocore.__version__}, "
        f"moto {moto.__version__} in-process, {iterations} requests per action on a warm container.",
        "Latencies include moto's own work and no network; compare them between handler versions, not with AWS.",
        "",
        "| action | p50 (ms) | p95 (ms) | AWS calls, warm (audit write included) |",
        "| --- | ---: | ---: | --- |",
    ]
    for s in stats:
        call_counts = sorted({len(c) for c in s.calls})
        longest: tuple[str, ...] = max(s.calls, key=len)
        sequence = " + ".join(longest)
        lines.append(
            f"| {s.name} | {s.percentile(0.5):.2f} | {s.percentile(0.95):.2f} | "
            f"{'/'.join(map(str, call_counts))}: {sequence} |"
        )
    lines += [
        "",
        "| metric | measured | target | met |",
        "| --- | ---: | ---: | --- |",
        f"| cold import of `lambda_function` from the extracted zip (median of {len(imports)} fresh interpreters, "
        f"`-B`, no .pyc in the zip) | {cold:.1f} ms | ≤ {TARGET_COLD_IMPORT_MS:.0f} ms "
        f"| {'yes' if cold <= TARGET_COLD_IMPORT_MS else 'no'} |",
        f"| of which botocore (the Lambda runtime's SDK) / `import lambda_function` (the handler and the libraries "
        f"it vendors) | {sdk:.1f} / {own:.1f} ms | – | – |",
        f"| first request of a container (clients built, secret read), in-process | {first_ms:.1f} ms | – | – |",
        f"| max AWS calls per action, warm path (expired-lease claim excluded: {expired_calls} calls) "
        f"| {warm_max} | ≤ {TARGET_CALLS} | {'yes' if warm_max <= TARGET_CALLS else 'no'} |",
        f"| deployment zip (stacks/package.py; libraries: Powertools, typing_extensions) "
        f"| {package.describe()} | – | – |",
        "",
        "Cold import runs (ms, botocore + `import lambda_function`): "
        + ", ".join(f"{i.sdk_ms:.1f} + {i.own_ms:.1f}" for i in imports)
        + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200, help="requests per action (1-2000)")
    parser.add_argument("--imports", type=int, default=7, help="fresh interpreters for the cold import (1-50)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks-handler.md")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="ZIP",
        help="another built package (with lambda_function.py at its root): cold imports alternate with this build's",
    )
    args = parser.parse_args(argv)
    iterations = max(1, min(args.iterations, 2000))
    imports = max(1, min(args.imports, 50))
    if args.compare is not None and not args.compare.is_file():
        parser.error(f"--compare: {args.compare} is not a file")
    _isolated_env()
    with tempfile.TemporaryDirectory(prefix="handler-bench-") as tmp:
        zip_path = build_current(Path(tmp) / "build")
        package = zip_contents(zip_path)
        current_dir = extract(zip_path, Path(tmp) / "current")
        comparison = ""
        if args.compare is None:
            cold_imports = measure(current_dir, imports)
        else:
            other_dir = extract(args.compare, Path(tmp) / "other")
            other_imports, cold_imports = alternate(other_dir, current_dir, imports)
            comparison = compare_markdown(package, zip_contents(args.compare), cold_imports, other_imports)
    stats, first_ms = measure_actions(iterations)
    report = render(stats, first_ms, cold_imports, package, iterations)
    if comparison:
        report += "\n" + comparison
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
