"""``tap``: a command line for the TAP task API (signed calls, bulk import and export)."""
