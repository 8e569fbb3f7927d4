"""The TAP stack's constructs; importing this package sets up on-demand provider loading.

See :mod:`stacks.lazy_provider`: the AWS provider bindings then load only the resource
modules the stack uses, which makes a synth about three times faster.
"""

from stacks.lazy_provider import install

install()
