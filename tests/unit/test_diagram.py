"""The README's system diagram has a place for every resource type the stack synthesizes.

``TYPE_NODES`` says which box of the Mermaid diagram stands for each resource type. The
tests check it both ways: every type synthesized in any environment (or with the feature
switches turned the other way) has a box, every mapped type is still synthesized, every
box stands for at least one type and every mapped box is drawn.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"

#: Resource type → the diagram node(s) it belongs to.
TYPE_NODES: dict[str, tuple[str, ...]] = {
    "aws_api_gateway_rest_api_policy": ("policy",),
    "aws_iam_policy": ("policy", "role", "rotation"),  # api_gw_ip_restrict for callers; the functions' policies
    "aws_api_gateway_rest_api": ("api",),
    "aws_api_gateway_resource": ("api",),
    "aws_api_gateway_method": ("api",),
    "aws_api_gateway_integration": ("api",),
    "aws_api_gateway_gateway_response": ("api",),
    "aws_api_gateway_deployment": ("api",),
    "terraform_data": ("api",),  # the redeploy trigger
    "aws_api_gateway_stage": ("stage",),
    "aws_api_gateway_method_settings": ("stage",),
    "aws_api_gateway_account": ("apilogs",),
    "aws_cloudwatch_log_group": ("apilogs", "fnlogs", "flowlogs", "rotation"),
    "aws_iam_role": ("role", "apilogs", "flowlogs", "codedeploy", "rotation"),
    "aws_iam_role_policy_attachment": ("role", "apilogs", "codedeploy", "rotation"),
    "aws_iam_role_policy": ("flowlogs",),
    "aws_lambda_function": ("fn", "rotation"),
    "aws_lambda_permission": ("fn", "alias", "rotation"),  # the original permission; the alias's; Secrets Manager's
    "aws_lambda_alias": ("alias",),
    "aws_codedeploy_app": ("codedeploy",),
    "aws_codedeploy_deployment_group": ("codedeploy",),
    "aws_vpc": ("vpc",),
    "aws_default_security_group": ("vpc",),
    "aws_subnet": ("private",),
    "aws_route_table": ("private",),
    "aws_route_table_association": ("private",),
    "aws_security_group": ("private", "endpoints"),  # the function's group; the endpoints' group
    "aws_vpc_endpoint": ("endpoints",),
    "aws_flow_log": ("flowlogs",),
    "aws_dynamodb_table": ("table",),
    "aws_appautoscaling_target": ("scaling",),
    "aws_appautoscaling_policy": ("scaling",),
    "aws_s3_bucket": ("bucket",),
    "aws_s3_bucket_versioning": ("bucket",),
    "aws_s3_bucket_server_side_encryption_configuration": ("bucket",),
    "aws_s3_bucket_public_access_block": ("bucket",),
    "aws_s3_bucket_policy": ("bucket",),
    "aws_s3_bucket_lifecycle_configuration": ("bucket",),
    "aws_s3_bucket_notification": ("bucket",),
    "aws_secretsmanager_secret": ("secret",),
    "aws_secretsmanager_secret_rotation": ("secret",),
    "aws_kms_key": ("kms",),
    "aws_kms_alias": ("kms",),
    "aws_cloudwatch_metric_alarm": ("alarms",),
    "aws_cloudwatch_dashboard": ("dashboard",),
    "aws_sns_topic": ("sns",),
    "aws_sns_topic_subscription": ("sns",),
}
#: Boxes that are not resources of the stack: who calls it, and the frame around the API's parts.
NOT_RESOURCES = {"caller", "gateway"}

_NODE = re.compile(r"^\s*(?:subgraph\s+)?([A-Za-z_]\w*)\s*[\[({]")
_EDGE = re.compile(r"^\s*([A-Za-z_]\w*)\s+[-.=]+>(?:\|[^|]*\|)?\s+([A-Za-z_]\w*)\s*$")


def mermaid_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)^```$", markdown, re.MULTILINE | re.DOTALL)


def diagram(source: str) -> tuple[set[str], list[tuple[str, str]]]:
    """The nodes a Mermaid flowchart defines (subgraphs included) and its edges."""
    nodes: set[str] = set()
    edges: list[tuple[str, str]] = []
    for line in source.splitlines()[1:]:
        if edge := _EDGE.match(line):
            edges.append((edge[1], edge[2]))
        elif node := _NODE.match(line):
            nodes.add(node[1])
        else:
            assert line.strip() in {"", "end"}, f"a diagram line this test does not understand: {line!r}"
    return nodes, edges


def _readme_diagram() -> tuple[set[str], list[tuple[str, str]]]:
    (block,) = mermaid_blocks(README.read_text(encoding="utf-8"))
    assert block.startswith("flowchart")
    return diagram(block)


def test_every_synthesized_resource_type_has_a_box_and_every_mapped_type_exists(
    prod_stack: dict[str, Any],
    dev_stack: dict[str, Any],
    local_stack: dict[str, Any],
    switched_off_stack: dict[str, Any],
) -> None:
    synthesized = set().union(
        *(stack["resource"] for stack in (prod_stack, dev_stack, local_stack, switched_off_stack))
    )
    assert not synthesized - set(TYPE_NODES), f"no place in the README diagram: {sorted(synthesized - set(TYPE_NODES))}"
    assert not set(TYPE_NODES) - synthesized, f"mapped but never synthesized: {sorted(set(TYPE_NODES) - synthesized)}"


def test_every_box_is_drawn_and_stands_for_a_resource() -> None:
    nodes, edges = _readme_diagram()
    mapped = {node for boxes in TYPE_NODES.values() for node in boxes}
    assert not mapped - nodes, f"mapped but not drawn: {sorted(mapped - nodes)}"
    assert not nodes - mapped - NOT_RESOURCES, (
        f"drawn but standing for no resource: {sorted(nodes - mapped - NOT_RESOURCES)}"
    )
    assert not NOT_RESOURCES - nodes, f"not drawn: {sorted(NOT_RESOURCES - nodes)}"
    undefined = {end for edge in edges for end in edge} - nodes
    assert not undefined, f"edges to boxes the diagram does not define: {sorted(undefined)}"
    assert nodes <= {end for edge in edges for end in edge} | {"gateway", "vpc"}, "a box with no edge"


def test_the_parser_reads_nodes_subgraphs_and_edges() -> None:
    nodes, edges = diagram('flowchart LR\n  subgraph g["G"]\n    a["A"]\n  end\n  b[("B")]\n  a -.->|x| b\n  b --> a\n')
    assert nodes == {"g", "a", "b"}
    assert edges == [("a", "b"), ("b", "a")]
