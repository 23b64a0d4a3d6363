"""``python -m wgan.experiments docs/reproductions``: rewrite every reproduction page's protocol table."""

import sys

from ._protocol import main

raise SystemExit(main(sys.argv[1:]))
