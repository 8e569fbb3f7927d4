"""The TAP stack's constructs; the CDK library and its provider bindings come from stacks/cdk.py."""
