"""Benchmarks of the stack, the handler, claiming, the local platform and tap: ``python -m bench.<name>``."""
