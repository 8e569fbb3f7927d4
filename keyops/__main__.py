"""``python -m keyops``: run the command line."""

import sys

from keyops.cli import main

sys.exit(main())
