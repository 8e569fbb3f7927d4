"""The TAP stack's constructs; importing it loads the provider bindings on demand (stacks/lazy_provider.py)."""

from stacks.lazy_provider import install

install()
