"""composer.trio_import: trio imported with stand-ins for what composer never uses (fresh interpreters)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_trio_imports_without_ssl_hmac_idna_and_leaves_no_stand_in() -> None:
    out = _python("""
        import sys
        from composer.trio_import import Deferred, _libc_has_pthread, import_trio
        trio = import_trio()
        assert import_trio() is trio
        left = [n for n, m in sys.modules.items() if isinstance(m, Deferred)]
        print(left, sorted(n for n in ("ssl", "_ssl", "hmac", "_hashlib", "idna", "subprocess") if n in sys.modules))
        import ctypes
        util = getattr(ctypes, "util", None)
        assert util is None or not isinstance(util, Deferred)
        if _libc_has_pthread():
            assert "ctypes.util" not in sys.modules
        assert trio.run(trio.to_thread.run_sync, lambda: 42) == 42
    """)
    assert out == "[] []"


def test_later_imports_get_the_real_modules_and_trio_reaches_them() -> None:
    out = _python("""
        from composer.trio_import import import_trio
        trio = import_trio()
        import ssl, hmac, ctypes.util
        from trio import _ssl, _dtls, _socket
        assert type(ssl).__name__ == "module" and ssl.create_default_context()
        assert _ssl._stdlib_ssl.SSLError is ssl.SSLError  # trio's reference forwards to the real one
        assert _dtls.hmac.compare_digest(b"a", b"a") and _socket._idna.encode("xn--bcher-kva.example")
        assert trio.run(trio.run_process, ["true"]).returncode == 0  # trio's subprocess forwards
        print(ctypes.util.find_library("c") is not None)
    """)
    assert out == "True"


def test_modules_already_imported_are_left_alone() -> None:
    out = _python("""
        import sys, ssl
        from composer.trio_import import import_trio
        import_trio()
        print(sys.modules["ssl"] is ssl, sys.modules["trio._ssl"]._stdlib_ssl is ssl)
    """)
    assert out == "True True"
