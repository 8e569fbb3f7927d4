"""Moving a live deployment of the original HCL to this stack without destroying anything:
``python -m migration check|adopt|prove`` (docs/migration.md).
"""
