"""The TAP task API's Lambda handler (``function.handler.lambda_handler``, reached through
the zip's ``lambda_function.py``); ``function.contract`` is what the stack and the handler
agree on. The package imports nothing else of this repository."""
