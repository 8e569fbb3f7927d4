"""docs/openapi.yaml against the OpenAPI 3.1 standard, docs/api.md and the
handler's error catalogue, so the spec, the docs and the code cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from function import errors

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
API_MD = (ROOT / "docs" / "api.md").read_text()
RESPONSES = SPEC["paths"]["/lambda"]["post"]["responses"]
_JSON_BLOCK = re.compile(r"(?P<before>[^\n]*)\n+```json\n(?P<body>.*?)\n```", re.DOTALL)
_STATUS_LINE = re.compile(r"^`(?P<status>\d{3})`:$")


def _validator(pointer: str) -> Draft202012Validator:
    """A validator for one schema of the spec, its ``$ref``s resolved within it."""
    return Draft202012Validator({**SPEC, "$ref": pointer})


def _response_pointer(status: int) -> str:
    response = RESPONSES[str(status)]
    if "$ref" in response:
        return response["$ref"] + "/content/application~1json/schema"
    return f"#/paths/~1lambda/post/responses/{status}/content/application~1json/schema"


def _examples() -> list[tuple[str, int | None, Any]]:
    """Every JSON block of docs/api.md as (kind, status, value); kind is
    request, response, audit or log. An unrecognised block fails the test."""
    found = []
    for match in _JSON_BLOCK.finditer(API_MD):
        value = json.loads(match["body"])
        status_line = _STATUS_LINE.match(match["before"].strip())
        if status_line:
            found.append(("response", int(status_line["status"]), value))
        elif value.get("message") == "request":  # a log line (it names its action too)
            found.append(("log", None, value))
        elif "action" in value and "request_id" not in value:
            found.append(("request", None, value))
        elif set(value) == {"error"}:
            found.append(("response", errors.STATUS[value["error"]["code"]], value))
        elif {"request_id", "received_at", "caller"} <= set(value):
            found.append(("audit", None, value))
        else:
            pytest.fail(f"docs/api.md has a JSON example this test does not know: {match['body'][:80]}")
    return found


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.1.")
    assert list(SPEC["paths"]) == ["/lambda"] and list(SPEC["paths"]["/lambda"]) == ["post"]


def test_the_readme_names_the_document() -> None:
    assert "docs/openapi.yaml" in (ROOT / "README.md").read_text()


def test_a_broken_document_is_caught() -> None:
    broken = json.loads(json.dumps(SPEC))
    broken["paths"]["/lambda"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/x"}
    with pytest.raises(Exception, match="x"):
        validate(broken)


def test_every_example_in_api_md_matches_the_document() -> None:
    examples = _examples()
    kinds = [kind for kind, _, _ in examples]
    assert kinds.count("request") == 6 and kinds.count("response") >= 5, kinds
    for kind, status, value in examples:
        if kind == "request":
            _validator("#/components/schemas/Request").validate(value)
            assert _validator("#/components/schemas/Request").is_valid({**value, "extra": 1}) is False
        elif kind == "response":
            assert status is not None
            _validator(_response_pointer(status)).validate(value)
        elif kind == "audit":  # the audit record embeds a request body and an error response
            _validator("#/components/schemas/Request").validate(value["request"]["body"]["json"])
            _validator(_response_pointer(value["status"])).validate(value["response"]["body"])


def test_the_request_schemas_carry_the_documented_limits() -> None:
    schemas = SPEC["components"]["schemas"]
    new_task = schemas["NewTask"]["properties"]
    assert (new_task["prompt"]["minLength"], new_task["prompt"]["maxLength"]) == (1, 20_000)
    assert (new_task["responses"]["minItems"], new_task["responses"]["maxItems"]) == (2, 8)
    assert (new_task["priority"]["minimum"], new_task["priority"]["maximum"]) == (0, 9)
    assert schemas["CreateTask"]["properties"]["client_token"]["maxLength"] == 64
    assert schemas["AnnotatorId"]["maxLength"] == 128
    assert schemas["ListTasks"]["properties"]["limit"]["maximum"] == 100
    assert schemas["Feedback"]["properties"]["rationale"]["maxLength"] == 5_000
    closed = [name for name, schema in schemas.items() if schema.get("type") == "object" and "properties" in schema]
    assert all(schemas[name].get("additionalProperties") is False for name in closed if name != "GatewayError")
    mapping = schemas["Request"]["discriminator"]["mapping"]
    assert all(
        schemas[ref.rsplit("/", 1)[1]]["properties"]["action"]["const"] == action for action, ref in mapping.items()
    )


def test_every_error_code_is_in_the_document_and_the_docs_under_its_status() -> None:
    assert {int(status) for status in RESPONSES} == {200, 201} | set(errors.STATUS.values())
    for code, status in errors.STATUS.items():
        schema = SPEC["components"]["schemas"][f"Error{status}"]
        body = {"error": {"code": code, "message": "internal error", "request_id": "r-1"}}
        assert _validator(_response_pointer(status)).is_valid(body), code
        assert re.search(rf"^\| {status} \| `{code}` \|", API_MD, re.MULTILINE), code
        assert schema["allOf"], code
    unknown = {"error": {"code": "no_such_code", "message": "m", "request_id": "r-1"}}
    assert not _validator(_response_pointer(400)).is_valid(unknown)


@pytest.mark.parametrize("status", [200, 201, 400, 401, 403, 404, 405, 409, 413, 500, 503])
def test_every_response_documents_x_request_id(status: int) -> None:
    response = RESPONSES[str(status)]
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    assert "X-Request-Id" in response["headers"]
    if status == 405:
        assert response["headers"]["Allow"] == {"$ref": "#/components/headers/Allow"}


def test_security_is_sigv4_and_the_api_key_together() -> None:
    assert SPEC["security"] == [{"sigv4": [], "apiKey": []}]
    schemes = SPEC["components"]["securitySchemes"]
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert (schemes["apiKey"]["in"], schemes["apiKey"]["name"]) == ("header", "X-Api-Key")
