"""`python -m nas_cli` is the `nas` command."""

import sys

from nas_cli.main import main

sys.exit(main())
