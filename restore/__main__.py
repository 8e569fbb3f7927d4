"""``python -m restore``: run the command line."""

import sys

from restore.cli import main

sys.exit(main())
