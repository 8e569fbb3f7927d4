"""The platform on this machine, with no AWS account: ``make local`` and ``make local-down``.

The emulator, the Terraform runner and the synth call come from ``workspace``. One concern
per module:

* ``deploy``: synthesize the ``local`` stack and drive Terraform against the emulator;
* ``api_server`` and ``serving``: the API Gateway-like HTTP server around the real handler;
* ``session``: the typed record of a running deployment (``.local/session.json``);
* ``up``/``down``: the two commands; ``paths``/``progress``: where files go, step output.
"""
