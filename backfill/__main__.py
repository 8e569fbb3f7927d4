"""``python -m backfill``: run the command line."""

import sys

from backfill.cli import main

sys.exit(main())
