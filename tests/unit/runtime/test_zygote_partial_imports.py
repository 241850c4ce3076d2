"""A zygote forked while another thread of the CLI imports (the executor's head start starts a
container while trio is imported) can import those modules itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import os, signal, sys, threading, time
sys.path.insert(0, {directory!r})
importing = threading.Thread(target=lambda: __import__("slowmod"))
importing.start()
time.sleep(0.1)  # slowmod is being imported: its import lock is held by that thread
child = os.fork()
if child == 0:
    if {forget}:
        from composer.engine.runtime.zygote import _forget_partial_imports
        _forget_partial_imports()
    signal.alarm(5)  # a hung import ends the child here
    import slowmod
    os._exit(0 if slowmod.VALUE == 1 else 2)
_, status = os.waitpid(child, 0)
importing.join()
print(os.waitstatus_to_exitcode(status))
"""


def _child_exit(tmp_path: Path, forget: bool) -> str:
    (tmp_path / "slowmod.py").write_text("import time\ntime.sleep(0.5)\nVALUE = 1\n")
    script = SCRIPT.format(directory=str(tmp_path), forget=forget)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          timeout=30).stdout.strip()


def test_a_child_forked_during_an_import_can_import_that_module(tmp_path: Path):
    assert _child_exit(tmp_path, forget=True) == "0"


def test_without_forgetting_the_child_would_hang(tmp_path: Path):
    assert _child_exit(tmp_path, forget=False) == "-14"  # SIGALRM: the import waited for a dead thread
