"""``python -m tap``: run the command line."""

import sys

from tap.cli import main

sys.exit(main())
