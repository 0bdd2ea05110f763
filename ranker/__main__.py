"""``python -m ranker ARGS`` is ``newsrank search ARGS``."""

import sys

from newsrank.cli import main

sys.exit(main(["search", *sys.argv[1:]]))
