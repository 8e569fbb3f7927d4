"""CDK Terrain's side of the project: its generated AWS bindings (``python -m terrain.bindings``,
``make cdktn-bindings``) and the mend they need; its Python environment is ``requirements.txt``."""
