"""zygote.ensure: the executor starts the zygote from its main thread before its threads begin;
the empty request that checks it runs forks no supervisor."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from composer.engine.runtime.zygote import Zygote


def _bare_zygote(path: Path) -> Zygote:
    """A Zygote object listening on ``path``, without the supervisor module or a serve loop."""
    zygote = object.__new__(Zygote)
    zygote.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    zygote.listener.bind(str(path))
    zygote.listener.listen(4)
    zygote.children = set()
    return zygote


def test_an_empty_request_forks_nothing(tmp_path: Path) -> None:
    zygote = _bare_zygote(tmp_path / "supervisor.sock")
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(tmp_path / "supervisor.sock"))
        client.sendall(b"\n")
        zygote._accept()
        assert zygote.children == set()
        assert client.recv(16) == b""  # answered by closing: ensure() does not wait for more
    finally:
        client.close()
        zygote.listener.close()


def test_ensure_starts_one_zygote_that_leaves_when_idle(state_root: Path) -> None:
    sock = state_root / "supervisor.sock"
    code = "from composer.engine.runtime.zygote import ensure; ensure()"
    env = {**os.environ, "COMPOSER_ROOT": str(state_root)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30)
    first = sock.stat().st_ino
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30)
    assert sock.stat().st_ino == first  # the running zygote was found, not replaced
    deadline = time.monotonic() + 10
    while sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sock.exists()  # no supervisor was forked: it left after its idle second


def test_the_new_zygote_does_not_keep_the_callers_lock(state_root: Path) -> None:
    """The zygote closes what it inherited first thing: the supervisor lock (flock, held by the
    caller while it starts the zygote) is free as soon as ensure() returns, not once the zygote
    imported its modules (every next start waited for that)."""
    code = """if True:
        import fcntl, os
        from composer.engine.runtime.zygote import ensure
        ensure()
        fd = os.open(os.path.join(os.environ["COMPOSER_ROOT"], "supervisor.lock"), os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if anyone holds it
    """
    env = {**os.environ, "COMPOSER_ROOT": str(state_root)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 10
    while (state_root / "supervisor.sock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_ensures_empty_request_warms_the_idle_zygote_up(tmp_path: Path, monkeypatch) -> None:
    """An up's ensure() starts the zygote ahead of its first start: the zygote imports the
    supervisor's modules at once (while the networks are made), so that the first supervisor
    forked finds them imported rather than importing them itself; once only."""
    zygote = _bare_zygote(tmp_path / "supervisor.sock")
    zygote.warm = False
    warmed: list[bool] = []
    monkeypatch.setattr(Zygote, "_warm_up", staticmethod(lambda: warmed.append(True)))
    try:
        for _ in range(2):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(str(tmp_path / "supervisor.sock"))
                client.sendall(b"\n")
                zygote._serve_request()
        assert warmed == [True] and zygote.warm
        assert zygote.children == set()
    finally:
        zygote.listener.close()


def test_the_warm_up_imports_what_a_start_with_volumes_and_a_bridge_needs() -> None:
    """The db of examples/postgres-api (a named volume, a bind mount, a bridge): its supervisor
    and launcher imported these after the fork (~15 ms of its start) before they were warmed."""
    code = """if True:
        import sys
        from composer.engine.runtime.zygote import Zygote
        Zygote._warm_up()
        wanted = ("composer.engine.volumes", "composer.engine.runtime.mounts", "composer.network.endpoint",
                  "composer.network.links", "composer.network.forward_policy", "composer.engine.runtime.execute")
        print(" ".join(name for name in wanted if name not in sys.modules))
    """
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
