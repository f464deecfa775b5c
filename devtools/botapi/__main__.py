"""`python -m devtools.botapi --port 8081 [--enforce-limits]`: the emulator as a process."""

import sys

from devtools.botapi.emulator import main

sys.exit(main())
