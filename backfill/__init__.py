"""``python -m backfill``: give the pending tasks of a deployed table their queue shard
(``make backfill-shards``), once, after the deploy that adds ``queue-shard-index``.

Tasks stored before the shards existed have no ``queue_shard``: they stay claimable by id and
through the head of the queue (a claim whose shard is empty reads it), but a claim of the next
task reads them only then, so without the backfill they would wait behind newer tasks
(docs/runbooks.md, "Adding the queue shards"). Modules: ``cli`` (the command). It imports only
``workspace``, ``stacks.config`` (the environments) and the handler's task repository (the
write itself), and nothing in the product imports it.
"""
