"""Launcher of the DNS server: fork and detach BEFORE importing trio, so the caller waits ~20 ms.

``python -m composer.network.dns.daemon STATE_DIR``: the first process exits at once (nobody has
to reap the server), the detached child imports the server and runs it.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    if os.fork():
        return 0
    os.setsid()
    from composer.network.dns.server import run

    return run(argv[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
