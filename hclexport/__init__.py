"""``make hcl``: the stack as plain Terraform HCL, for leaving CDKTF (README, "Leaving CDKTF").

``render`` runs main.py through CDKTF's own HCL renderer and writes the folder;
``rules`` mends what that renderer writes wrong whatever the stack feeds it; ``cli`` is
``python -m hclexport``.
"""
