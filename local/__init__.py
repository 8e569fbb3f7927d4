"""The platform on this machine, with no AWS account: ``make local``, ``make local-down``, ``make emulator``.

One concern per module:

* ``patches``: the mends to moto the AWS provider and this stack need (``patches.apply()``);
* ``emulator``: the mended moto server: ``start``/``stop``/``find``/``temporary``, the state
  bucket, ``python -m local.emulator``;
* ``processes``: pids, ports and log tails; ``clients``: boto3 clients for the emulator;
* ``deploy`` and ``terraform``: synthesize the ``local`` stack and drive Terraform;
* ``api_server`` and ``serving``: the API Gateway-like HTTP server around the real handler;
* ``session``: the typed record of a running deployment (``.local/session.json``);
* ``up``/``down``: the two commands; ``paths``/``progress``: where files go, step output.
"""
