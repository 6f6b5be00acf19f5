"""``python -m sahel_eval`` runs the command line (see :mod:`sahel_eval.cli`)."""

import sys

from sahel_eval.cli import main

sys.exit(main())
