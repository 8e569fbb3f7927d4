"""Terraform addresses: every resource keeps the address the original HCL gave it.

CDKTF normally derives a resource's name from its construct path plus a hash, so a VPC
in a ``network`` construct would become ``aws_vpc.network_main_1A2B3C4D``. State moved
over from the HCL deployment only lines up if the names are the HCL's own, so in this
project a resource's construct id *is* its Terraform address (``"aws_vpc.main"``,
``"data.aws_partition.current"``, ``"var.tags"``, ``"output.api_gateway_id"``) and the
stack uses the part after the type as the logical id. The registry checks that the type
in the id is the element's real type and refuses a second element at the same address,
which would otherwise silently overwrite the first in the synthesized JSON.
"""

from __future__ import annotations


class AddressRegistry:
    """Turns construct ids into flat logical ids and rejects duplicates and mismatches."""

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}

    def allocate(self, construct_id: str, kind: str | None, construct_path: str) -> str:
        """The logical id for ``element``.

        ``kind`` is the element's block type (``aws_vpc``, ``data.aws_partition``,
        ``var``, ``output``) or None for anything else (the provider, an asset), whose
        construct id is its name. ``construct_path`` identifies the element itself
        (CDKTF asks more than once for the same element).
        """
        if kind is None:
            address, name = construct_id, construct_id
        else:
            address = construct_id
            declared, _, name = construct_id.rpartition(".")
            if declared != kind or not name:
                raise ValueError(f"construct id {construct_id!r} must be the Terraform address {kind}.<name>")
        owner = self._owners.setdefault(address, construct_path)
        if owner != construct_path:
            raise ValueError(f"two Terraform elements would share the address {address}")
        return name
