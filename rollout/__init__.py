"""``python -m rollout``: start a gradual rollout of the task function (``make rollout``).

The stack publishes a new version of the function at every deploy that changes it, while the
``live`` alias API Gateway invokes stays on the version it serves. This package asks
CodeDeploy to shift ``live`` to the new version by the deployment group's configuration
(canary, linear or all at once), which rolls it back by itself when an alarm fires
(docs/rollout.md). Modules: ``targets`` (what to deploy, from the stack's Terraform outputs or
flags), ``deploy`` (the checks and the CodeDeploy calls), ``cli`` (the command).

It imports only ``workspace`` and ``stacks.config``, and nothing in the product imports it.
"""
