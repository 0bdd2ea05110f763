"""``python -m indexer ARGS`` is ``newsrank index ARGS``."""

import sys

from newsrank.cli import main

sys.exit(main(["index", *sys.argv[1:]]))
