"""`python -m hwplan ...` is the `hwplan` command (for machines where the console script is not installed)."""

import sys

from hwplan.app.cli import main

sys.exit(main())
