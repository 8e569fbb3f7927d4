"""This checkout's shared tooling: what ``local`` (``make local``) and ``migration`` both run on.

It imports nothing else of the project (no ``local``, ``migration``, ``tap``, ``stacks``),
so both may use it and neither needs the other: paths, loopback checks, the Terraform CLI,
the synth call, the mended emulator (``emulator``, ``patches``, ``dynamodb_mend``), processes,
boto3 clients and what the operator commands share (``operator_cli``), one module each.
"""
