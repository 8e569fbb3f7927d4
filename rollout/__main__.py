"""``python -m rollout``: run the command line."""

import sys

from rollout.cli import main

sys.exit(main())
