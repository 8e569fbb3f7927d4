"""The TAP task API's Lambda handler: one package, imported as ``function`` everywhere.

``function.handler.lambda_handler`` serves API Gateway REST proxy events; Lambda reaches it
through the zip's ``lambda_function.py`` (see ``stacks/package.py``). ``function.contract``
is what the stack and the handler agree on. The package imports nothing else of this
repository.
"""
