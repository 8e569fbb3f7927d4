"""``python -m hclexport``: run the command line."""

import sys

from hclexport.cli import main

sys.exit(main())
