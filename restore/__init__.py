"""``python -m restore``: restore the task table to a point in time (``make restore-table``).

DynamoDB restores a table's point-in-time backup only into a *new* table. This package
restores into ``<table>-restore-<time>``, waits for it, checks it against the live table,
copies its items back into the original table (a restored item wins only where the live one
is missing or older), then deletes the temporary table. The stack keeps its table, its
Terraform addresses, ARNs, alarms and autoscaling, and the API answers throughout
(docs/runbooks.md, "Restoring the task table"). Modules: ``target`` (the table's
recovery window, the checks), ``steps`` (restore, wait, check, copy back, clean up),
``cli`` (the command).

It imports only ``workspace`` and ``stacks.config``, and nothing in the product imports it.
"""
