"""The local platform's parts on their own, in seconds: the mended emulator, the proxy
event mapping and the HTTP server (with a stand-in handler), the session file, the progress
output."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local import session as sessions
from local import up
from local.api_server import ApiServer, ApiSettings
from local.apigw import ProxyRequest, make_event, to_http_response
from local.paths import LocalPaths
from local.progress import Progress, StepFailed
from local.session import Session, SessionError, StackOutputs
from testkit.serving import start_in_thread
from workspace import emulator, processes
from workspace.patches import condition_holds
from workspace.paths import PROJECT

pytestmark = pytest.mark.timeout(120)

OUTPUTS = {
    "api_key_secret_arn": "arn:aws:secretsmanager:us-west-2:123456789012:secret:keys-AbCdEf",
    "lambda_function_name": "fn",
    "dynamodb_table_name": "tasks",
    "s3_log_bucket_name": "audit",
    "api_invoke_url": "https://abc.execute-api.us-west-2.amazonaws.com/prod/lambda",
}


@pytest.fixture(scope="module")
def running_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emulator.RunningEmulator]:
    with emulator.temporary(tmp_path_factory.mktemp("emulator") / "local") as running:
        yield running
    assert not processes.pid_alive(running.pid)
    assert processes.port_bindable(running.port)


def test_application_autoscaling_tags_are_kept(running_emulator: emulator.RunningEmulator) -> None:
    ddb = running_emulator.client("dynamodb")
    ddb.create_table(
        TableName="tags-table",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    aas = running_emulator.client("application-autoscaling")
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/tags-table",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=5,
        MaxCapacity=100,
        Tags={"Project": "TapStack"},
    )
    arn = aas.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=["table/tags-table"])[
        "ScalableTargets"
    ][0]["ScalableTargetARN"]
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Project": "TapStack"}
    aas.tag_resource(ResourceARN=arn, Tags={"Owner": "me"})
    aas.untag_resource(ResourceARN=arn, TagKeys=["Project"])
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Owner": "me"}
    with pytest.raises(aas.exceptions.ResourceNotFoundException):
        aas.list_tags_for_resource(ResourceARN=arn + "0")


def test_rest_api_policy_comes_back_escaped(running_emulator: emulator.RunningEmulator) -> None:
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}],
        }
    )
    apigw = running_emulator.client("apigateway")
    api = apigw.create_rest_api(name="escaped", policy=policy)
    assert apigw.get_rest_api(restApiId=api["id"])["policy"] == json.dumps(policy)[1:-1]


def test_aws_managed_policies_exist(running_emulator: emulator.RunningEmulator) -> None:
    iam = running_emulator.client("iam")
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Arn"] == arn


def test_bucket_policy_conditions_are_evaluated(running_emulator: emulator.RunningEmulator) -> None:
    s3 = running_emulator.client("s3")
    s3.create_bucket(Bucket="policy-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    deny_http = {
        "Sid": "DenyPlainHttp",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::policy-bucket", "arn:aws:s3:::policy-bucket/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(Bucket="policy-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny_http]}))
    s3.put_object(Bucket="policy-bucket", Key="allowed", Body=b"x")
    deny_put = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::policy-bucket/*",
    }
    s3.put_bucket_policy(
        Bucket="policy-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny_http, deny_put]})
    )
    with pytest.raises(s3.exceptions.ClientError):
        s3.put_object(Bucket="policy-bucket", Key="denied", Body=b"x")


def test_bucket_eventbridge_notification_is_returned(running_emulator: emulator.RunningEmulator) -> None:
    s3 = running_emulator.client("s3")
    s3.create_bucket(Bucket="events-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_bucket_notification_configuration(
        Bucket="events-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    assert s3.get_bucket_notification_configuration(Bucket="events-bucket")["EventBridgeConfiguration"] == {}


def _transaction_seconds(ddb: Any, table: str, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"id": {"S": f"tx-{n}"}},
                     "ConditionExpression": "attribute_not_exists(id)"}},
            {"Put": {"TableName": table, "Item": {"id": {"S": f"token-{n}"}},
                     "ConditionExpression": "attribute_not_exists(id)"}},
        ])  # fmt: skip
    return time.perf_counter() - started


def test_dynamodb_transactions_roll_back_and_do_not_copy_the_table(
    running_emulator: emulator.RunningEmulator,
) -> None:
    ddb = running_emulator.client("dynamodb")
    for name in ("tx-small", "tx-large"):
        ddb.create_table(
            TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        )  # fmt: skip
    ddb.put_item(TableName="tx-small", Item={"id": {"S": "a"}, "v": {"N": "1"}})
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as cancelled:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "tx-small", "Item": {"id": {"S": "b"}}}},
            {"Update": {"TableName": "tx-small", "Key": {"id": {"S": "a"}}, "UpdateExpression": "SET v = :two",
                        "ConditionExpression": "v = :two", "ExpressionAttributeValues": {":two": {"N": "2"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ])  # fmt: skip
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"] == {"id": {"S": "a"}, "v": {"N": "1"}}
    # All or nothing: the Put that came first is undone, the updated item is as it was.
    assert "Item" not in ddb.get_item(TableName="tx-small", Key={"id": {"S": "b"}})
    assert ddb.get_item(TableName="tx-small", Key={"id": {"S": "a"}})["Item"]["v"] == {"N": "1"}
    # A transaction costs about the same on a table of 4,000 items as on an empty one
    # (unmended, moto copied the whole table twice per transaction: many times slower).
    for start in range(0, 4000, 25):
        ddb.batch_write_item(RequestItems={"tx-large": [
            {"PutRequest": {"Item": {"id": {"S": f"filler-{n}"}, "text": {"S": "x" * 200}}}}
            for n in range(start, start + 25)
        ]})  # fmt: skip
    small, large = _transaction_seconds(ddb, "tx-small", 20), _transaction_seconds(ddb, "tx-large", 20)
    assert large < 3 * small + 0.5, f"20 transactions: {large:.2f} s on 4,000 items, {small:.2f} s on 1"


def test_dynamodb_string_comparisons_keep_moto_order(running_emulator: emulator.RunningEmulator) -> None:
    """The comparison mend changes speed only: an index Query on the emulator returns string
    sort keys in code-point order (what moto's own comparison gives), numbers still compare
    as numbers, and the mend is the one installed."""
    ddb = running_emulator.client("dynamodb")
    ddb.create_table(
        TableName="order", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("id", "g", "k")],
        GlobalSecondaryIndexes=[{"IndexName": "by-k", "Projection": {"ProjectionType": "KEYS_ONLY"},
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                               {"AttributeName": "k", "KeyType": "RANGE"}]}],
        BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    keys = ["b", "a", "ab", "A", "é", "z", "10", "9", "\u4e2d", "a#2026", "a#2025"]
    for n, key in enumerate(keys):
        ddb.put_item(TableName="order", Item={"id": {"S": f"i{n}"}, "g": {"S": "x"}, "k": {"S": key}})
    found = ddb.query(
        TableName="order", IndexName="by-k", KeyConditionExpression="g = :g AND k > :low",
        ExpressionAttributeValues={":g": {"S": "x"}, ":low": {"S": "9"}},
    )["Items"]  # fmt: skip
    assert [item["k"]["S"] for item in found] == sorted(k for k in keys if k > "9")
    probe = (
        "from moto.dynamodb.models.dynamo_type import DynamoType as T\n"
        "from workspace import patches\n"
        "before = T.__lt__\n"
        "patches.apply()\n"
        "assert T.__lt__ is not before and T.__lt__.__name__ == 'less_than'\n"
        "assert T({'N': '10'}) > T({'N': '9'}) and not T({'N': '10'}) < T({'N': '9'})\n"
        "assert T({'S': '10'}) < T({'S': '9'}) and T({'S': 'a'}) == T({'S': 'a'}) != T({'N': '1'})\n"
        "assert T.__ne__.__name__ == 'differs' and T({'S': 'a'}) != T({'S': 'b'})\n"
        "assert not T({'S': 'a'}) != T({'S': 'a'}) and T({'N': '1'}) != T({'N': '2'})\n"
    )
    subprocess.run([sys.executable, "-c", probe], cwd=PROJECT, check=True, timeout=120)


def test_state_bucket_is_created_once(running_emulator: emulator.RunningEmulator) -> None:
    emulator.ensure_state_bucket(running_emulator.endpoint)
    assert emulator.ensure_state_bucket(running_emulator.endpoint) is False


def test_condition_operators() -> None:
    tls = {"aws:securetransport": "true"}
    assert not condition_holds({"Bool": {"aws:SecureTransport": "false"}}, tls)
    assert condition_holds({"Bool": {"aws:SecureTransport": ["true"]}}, tls)
    assert condition_holds({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, tls)  # missing key
    assert not condition_holds({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, tls)
    assert condition_holds({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, tls)
    assert condition_holds({"Null": {"aws:SourceVpce": "true"}}, tls)
    assert not condition_holds({"ForAnyValue:StringLike": {"aws:TagKeys": "x*"}}, tls)


def test_event_has_what_api_gateway_sends() -> None:
    headers = [("Host", "h"), ("X-Api-Key", "k"), ("Accept", "a"), ("Accept", "b")]
    request = ProxyRequest("POST", "/lambda?a=1&a=2&b=", headers, b'{"action": "list_tasks"}', "127.0.0.5")
    event = make_event(request, "prod", "req-1")
    assert event["resource"] == "/lambda" and event["path"] == "/lambda" and event["httpMethod"] == "POST"
    assert event["headers"]["X-Api-Key"] == "k" and event["headers"]["Accept"] == "b"
    assert event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"]["a"] == ["1", "2"]
    assert event["body"] == '{"action": "list_tasks"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["requestId"] == "req-1" and context["stage"] == "prod" and context["httpMethod"] == "POST"
    assert context["identity"]["sourceIp"] == "127.0.0.5"
    empty = make_event(ProxyRequest("GET", "/lambda", [], b"", "127.0.0.1"), "prod", "req-2")
    assert empty["body"] is None and empty["queryStringParameters"] is None and empty["headers"] is None


def test_malformed_proxy_results_are_502() -> None:
    assert to_http_response({"body": "x"}, "r").status == 502
    assert to_http_response(None, "r").status == 502
    ok = to_http_response(
        {
            "statusCode": 201,
            "headers": {"A": "1"},
            "multiValueHeaders": {"B": ["1", "2"]},
            "body": "eyJ4IjoxfQ==",
            "isBase64Encoded": True,
        },
        "r",
    )
    assert ok.status == 201 and ok.body == b'{"x":1}' and ("B", "2") in ok.headers and ("A", "1") in ok.headers


def test_server_routes_and_keeps_connections_alive() -> None:
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        assert context.get_remaining_time_in_millis() > 0 and context.aws_request_id
        if event["body"] == "boom":
            raise RuntimeError("handler bug")
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok":true}'}

    server = ApiServer(("127.0.0.1", 0), ApiSettings(handler=handler, quiet=True))
    start_in_thread(server)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        conn.request("POST", "/lambda", body=b"{}", headers={"x-api-key": "k"})
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read()) == {"ok": True}
        request_id = response.getheader("x-amzn-RequestId")
        assert seen[-1]["requestContext"]["requestId"] == request_id
        conn.request("GET", "/other")  # same connection: keep-alive
        response = conn.getresponse()
        assert response.status == 404 and json.loads(response.read())["message"] == "Not Found"
        conn.request("POST", "/lambda", body=b"boom")
        response = conn.getresponse()
        assert response.status == 502 and json.loads(response.read()) == {"message": "Internal server error"}
        assert len(seen) == 2
    finally:
        server.shutdown()
        server.server_close()


def test_progress_lines_and_failures(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(2)
    with progress.step("first") as notes:
        notes.append("fine")
    with pytest.raises(StepFailed), progress.step("second"):
        raise StepFailed("why", "todo")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[1/2] first … done in ") and lines[0].endswith("(fine)")
    assert lines[1].startswith("[2/2] second … FAILED after ")


def test_up_refuses_a_taken_api_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAP_LOCAL_DIR", raising=False)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        paths = LocalPaths(root=tmp_path / "local", outdir=tmp_path / "out")
        code = up.up(up.parse_args(["--port", str(processes.free_port()), "--api-port", str(port)]), paths)
    captured = capsys.readouterr()
    assert code == 1
    assert f"API port {port} on 127.0.0.1 is already in use" in captured.err
    assert "what to do:" in captured.err and "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "local").exists()  # failed before starting anything


def test_a_bad_port_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """From the flag or its variable: exit status 2, the value and where it came from, nothing started."""
    monkeypatch.setenv("TAP_EMULATOR_PORT", "abc")
    with pytest.raises(SystemExit) as exited:
        up.parse_args([])
    assert exited.value.code == 2
    assert "'abc' is not a port number (given by --port or TAP_EMULATOR_PORT)" in capsys.readouterr().err
    monkeypatch.delenv("TAP_EMULATOR_PORT")
    with pytest.raises(SystemExit) as exited:
        up.parse_args(["--api-port", "65536"])
    assert exited.value.code == 2
    assert "'65536' is not a port number (given by --api-port or TAP_API_PORT)" in capsys.readouterr().err
    assert up.parse_args(["--api-port", "65535"]).api_port == 65535


def test_session_round_trips_through_its_file(tmp_path: Path) -> None:
    paths = LocalPaths(root=tmp_path / "local", outdir=tmp_path / "out")
    outputs = StackOutputs.from_values({**OUTPUTS, "api_gateway_id": "abc"})
    assert outputs.stage == "prod"
    session = Session(
        api_port=8081, api_key="k", emulator_port=4567, function_name="fn", timeout_seconds=15.0, memory_mb=256,
        stage=outputs.stage, handler_env={"DYNAMODB_TABLE": "tasks"}, outputs=outputs, deployed_at="now",
    )  # fmt: skip
    sessions.write(paths, session)
    assert paths.session.stat().st_mode & 0o777 == 0o600
    written = json.loads(paths.session.read_text())
    assert written["api_url"] == "http://127.0.0.1:8081/lambda" and written["endpoint"] == "http://127.0.0.1:4567"
    assert sessions.read(paths) == session
    assert session.served_on(9000).api_url == "http://127.0.0.1:9000/lambda"


def test_session_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match=r"no output\(s\) lambda_function_name, api_invoke_url$"):
        StackOutputs.from_values(
            {k: v for k, v in OUTPUTS.items() if k not in ("lambda_function_name", "api_invoke_url")}
        )
    paths = LocalPaths(root=tmp_path, outdir=tmp_path / "out")
    paths.session.write_text(json.dumps({"api_port": 1}))
    assert sessions.read(paths) is None
