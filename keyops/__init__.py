"""``python -m keyops``: operators rotate the API keys now or revoke one key by its fingerprint
(``make rotate-keys``, ``make revoke-key``; docs/runbooks.md, "Rotating and revoking keys").

Modules: ``cli`` (the command, the secret's whereabouts, the checks). It imports only
``workspace`` and ``rotation.keys`` (the secret's format, so a revoke writes exactly what the
rotation function and the handler read), and nothing in the product imports it.
"""
