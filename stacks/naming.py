"""Terraform addresses: a construct id *is* the address the original HCL gave the element
(``"aws_vpc.main"``, ``"var.tags"``, ``"output.api_gateway_id"``), so state moved over from the HCL
deployment lines up (docs/migration.md). Two elements at one address are refused.
"""

from __future__ import annotations


class AddressRegistry:
    """Turns construct ids into flat logical ids and rejects duplicates and mismatches."""

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}

    def allocate(self, construct_id: str, kind: str | None, construct_path: str) -> str:
        """The logical id of the element at ``construct_path`` (CDKTF asks more than once).

        ``kind`` is its block type (``aws_vpc``, ``data.aws_partition``, ``var``, ``output``),
        which the id must start with, or None for anything else (the provider, an asset).
        """
        name = construct_id
        if kind is not None:
            declared, _, name = construct_id.rpartition(".")
            if declared != kind or not name:
                raise ValueError(f"construct id {construct_id!r} must be the Terraform address {kind}.<name>")
        if self._owners.setdefault(construct_id, construct_path) != construct_path:
            raise ValueError(f"two Terraform elements would share the address {construct_id}")
        return name
