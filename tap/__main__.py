"""``python -m tap``: run the command line."""

from tap.cli import main

raise SystemExit(main())
