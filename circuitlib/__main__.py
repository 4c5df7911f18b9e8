"""`python -m circuitlib ...`: see circuitlib.cli."""

import sys

from circuitlib.cli import main

sys.exit(main())
