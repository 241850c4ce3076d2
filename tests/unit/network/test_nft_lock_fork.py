"""libnftables' lock across fork: a child never inherits it held by a thread it does not have."""

from __future__ import annotations

import os
import threading
import time

from composer.network import firewall


def test_a_child_forked_while_a_context_is_freed_can_run_its_own_scripts():
    held, release = threading.Event(), threading.Event()

    def freeing() -> None:  # as _free: the lock held by another thread for a while
        with firewall._ONE_AT_A_TIME:
            held.set()
            release.wait(5)

    worker = threading.Thread(target=freeing)
    worker.start()
    held.wait(5)
    try:
        pid = os.fork()
        if pid == 0:
            got = firewall._ONE_AT_A_TIME.acquire(timeout=2)
            os._exit(0 if got else 1)
        deadline = time.monotonic() + 10
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        if done[0] == 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0
    finally:
        release.set()
        worker.join()
