"""Launcher of the DNS server: fork and detach BEFORE importing trio, so the caller waits ~20 ms.

``python -m composer.network.dns.daemon STATE_DIR``: the first process takes the root's lock
(``dns.lock``; if another server holds it, it exits at once), forks, writes the child's pid to
``dns.pid`` and exits (nobody has to reap the server); the detached child, holding the lock it
inherited, imports the server and runs it. So when ``control.start`` returns, ``pid_of`` already
finds the server, though it is still importing (~0.1-1 s): a container start's ``_ensure_dns``
right after ``network create`` waits for it rather than launching a second one. Until the server
listens for signals SIGHUP is ignored (a ``refresh`` then must not kill it): its first rescan
reads the state anyway.
"""

from __future__ import annotations

import _signal
import fcntl
import os
import sys


def main(argv: list[str]) -> int:
    state_dir = argv[0]
    lock = open(os.path.join(state_dir, "dns.lock"), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another server already serves this root
    _signal.signal(_signal.SIGHUP, _signal.SIG_IGN)
    pid_path = os.path.join(state_dir, "dns.pid")
    child = os.fork()
    if child:
        with open(f"{pid_path}.tmp", "w") as handle:
            handle.write(str(child))
        os.replace(f"{pid_path}.tmp", pid_path)
        return 0
    os.setsid()
    try:
        from composer.network.dns.server import run

        return run(state_dir)
    finally:
        try:
            os.unlink(pid_path)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
