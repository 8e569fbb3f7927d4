"""Tests of the `tap` command line, in process against the real handler served over HTTP."""
