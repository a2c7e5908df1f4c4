"""`python -m luciq_tui` is the `luciq` command."""

import sys

from luciq_tui.cli import main

sys.exit(main())
