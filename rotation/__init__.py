"""The API key secret's rotation: its own small Lambda (``rotation.handler.lambda_handler``).

``rotation.keys`` holds the secret's format and the rotation rules as pure functions (also
used by the operator command, ``keyops``); ``rotation.handler`` runs the four steps Secrets
Manager calls. The package imports only ``function.contract`` of the project (the secret's
field names and the handler's key cache time), and stacks/package.py zips it with that one
module: botocore comes from the Lambda runtime.
"""
