"""The post-processing rules of ``make hcl`` (hclexport/rules.py) on small texts in
``terraform fmt``'s layout, shaped as CDKTF's renderer writes them: what each rule changes,
what it leaves alone, and that it stops on a shape it does not know.

That each rule mends a real defect of the renderer's output, as Terraform reports it, is
shown on a real render in test_hcl_export.py."""

from __future__ import annotations

import re

import pytest

from hclexport.rules import RendererChanged, condition_blocks, mend, unquote_references

RENDERED = """\
resource "aws_s3_bucket" "replica" {
  bucket   = "${var.name}-replica"
  provider = "aws.replica"
  depends_on = [
    "aws_s3_bucket.source",
    "aws_iam_role.replication",
  ]
  lifecycle {
    create_before_destroy = true
    ignore_changes = [
      "tags[\\"Owner\\"]",
      "read_capacity",
    ]
    replace_triggered_by = [
      "terraform_data.revision",
    ]
    precondition = [
      {
        condition     = "${length(var.name) <= 45}"
        error_message = "name must fit."
      },
      {
        condition     = "${var.region != "us-east-1"}"
        error_message = "region must differ."
      },
    ]
  }
}
output "name" {
  value = aws_s3_bucket.replica.bucket
  depends_on = [
    "aws_s3_bucket.replica",
  ]
}
"""

MENDED = """\
resource "aws_s3_bucket" "replica" {
  bucket   = "${var.name}-replica"
  provider = aws.replica
  depends_on = [
    aws_s3_bucket.source,
    aws_iam_role.replication,
  ]
  lifecycle {
    create_before_destroy = true
    ignore_changes = [
      tags["Owner"],
      read_capacity,
    ]
    replace_triggered_by = [
      terraform_data.revision,
    ]
    precondition {
      condition     = "${length(var.name) <= 45}"
      error_message = "name must fit."
    }
    precondition {
      condition     = "${var.region != "us-east-1"}"
      error_message = "region must differ."
    }
  }
}
output "name" {
  value = aws_s3_bucket.replica.bucket
  depends_on = [
    aws_s3_bucket.replica,
  ]
}
"""


def test_the_rules_mend_what_the_renderer_writes() -> None:
    assert mend(RENDERED) == MENDED


def test_each_rule_mends_only_its_own_construct() -> None:
    references = unquote_references(RENDERED)
    assert "provider = aws.replica" in references and "precondition = [" in references
    conditions = condition_blocks(RENDERED)
    assert '"aws_s3_bucket.source",' in conditions and "    precondition {" in conditions


def test_mended_text_is_left_as_it_is() -> None:
    assert mend(MENDED) == MENDED


#: The same words where they are not meta-arguments, and must stay as they are.
LOOK_ALIKES = {
    "a nested block's own provider": 'resource "aws_x" "y" {\n  settings {\n    provider = "github"\n  }\n}\n',
    "a map key": 'resource "aws_x" "y" {\n  tags = {\n    depends_on = "nothing"\n  }\n}\n',
    "outside lifecycle": 'resource "aws_x" "y" {\n  rule {\n    ignore_changes = [\n      "a.b",\n    ]\n  }\n}\n',
    "a heredoc's lines": 'resource "aws_x" "y" {\n  script = <<EOF\n  depends_on = [\n    "a.b",\n  ]\nEOF\n}\n',
}


@pytest.mark.parametrize("case", sorted(LOOK_ALIKES))
def test_look_alikes_stay(case: str) -> None:
    assert mend(LOOK_ALIKES[case]) == LOOK_ALIKES[case]


#: Shapes the rules do not know, and what they say about each.
UNKNOWN_SHAPES = {
    "a list on one line": (
        'resource "aws_x" "y" {\n  depends_on = ["aws_a.b"]\n}\n',
        "not as a list of one element a line",
    ),
    "an expression, not a reference": (
        'resource "aws_x" "y" {\n  depends_on = [\n    "${aws_a.b.id}",\n  ]\n}\n',
        "is not a quoted reference",
    ),
    "a provider that is no reference": (
        'resource "aws_x" "y" {\n  provider = "aws replica"\n}\n',
        "is not a quoted reference",
    ),
    "an unclosed list": ('resource "aws_x" "y" {\n  depends_on = [\n    "aws_a.b",\n}\n', "has no closing ']'"),
    "conditions that are no objects": (
        'resource "aws_x" "y" {\n  lifecycle {\n    precondition = [\n      "${true}",\n    ]\n  }\n}\n',
        "not a list of objects",
    ),
    "conditions as one expression": (
        'resource "aws_x" "y" {\n  lifecycle {\n    postcondition = var.checks\n  }\n}\n',
        "not as a list of one element a line",
    ),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_SHAPES))
def test_an_unknown_shape_stops_the_rule(case: str) -> None:
    text, complaint = UNKNOWN_SHAPES[case]
    with pytest.raises(RendererChanged, match=re.escape(complaint)):
        mend(text)
