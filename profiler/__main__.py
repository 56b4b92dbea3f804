"""`python -m profiler ...` is `hwplan profile ...` (for machines where the console script is not installed)."""

import sys

from app.cli import main

sys.exit(main(["profile", *sys.argv[1:]]))
