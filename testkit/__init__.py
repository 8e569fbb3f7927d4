"""Helpers that tests and benchmarks share to drive the real parts; product code never imports it."""
