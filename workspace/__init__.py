"""This checkout's shared tooling: what ``local`` (``make local``) and ``migration`` both run on.

It imports nothing else of the project (no ``local``, ``migration``, ``tap``, ``stacks``),
so both may use it and neither needs the other. One concern per module:

* ``paths``: the project root, ``.local/`` and the emulator's files, ``shown()`` for messages;
* ``loopback``: whether a host or an ``http://HOST:PORT`` URL stays on this machine (stdlib only);
* ``terraform``: the Terraform CLI with the provider mirror's settings, and its environment
  for runs against the emulator;
* ``synth``: ``python main.py --if-changed`` with one way of failing;
* ``emulator``: the mended moto server (``start``/``stop``/``find``/``temporary``, state
  buckets, ``python -m workspace.emulator``); ``patches`` and ``dynamodb_mend``: its mends;
* ``processes``: pids, ports, logged child processes, log tails; ``clients``: boto3 clients
  for the emulator.
"""
