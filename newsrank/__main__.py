"""``python -m newsrank ARGS`` is ``newsrank ARGS``."""

import sys

from newsrank.cli import main

sys.exit(main())
