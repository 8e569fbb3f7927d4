"""Moving a live deployment of the original HCL to this stack without destroying anything.

``python -m migration check`` plans the stack against the deployment's state and judges
the plan against the expected changes (``expected_changes.toml``); ``adopt`` backs the
state up and hands it to the stack's backend; ``prove`` does the whole move on the local
emulator. See docs/migration.md.
"""
