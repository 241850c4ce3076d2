"""Entry point of the DNS server: ``python -m composer.network.dns.daemon STATE_DIR LOCK_FD [SOCKET_FD...]``.

``control.start`` spawns it holding the root's ``dns.lock`` (fd ``LOCK_FD``, never closed: the
lock goes only with the process, after its sockets) and the sockets it bound on the served
gateways, already answering into their queues. Rescan pokes (SIGURG) are ignored by default until
the server listens for them; its first rescan reads the state anyway.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    state_dir, _lock_fd, *socket_fds = argv
    from composer.trio_import import import_trio

    import_trio()
    from composer.network.dns.server import run

    return run(state_dir, [int(fd) for fd in socket_fds])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
