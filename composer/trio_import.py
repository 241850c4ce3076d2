"""Import trio without the subprocess its import would spawn.

trio's thread cache looks up libpthread at import time with ``ctypes.util.find_library``, which
on Linux runs ``/sbin/ldconfig -p``: a fork and exec on every command that walks a plan (about
10 ms on a quiet machine, far more under load). Since glibc 2.34 the pthread functions live in
libc itself, so on such a system the lookup is answered with libc for the length of the import;
anywhere else (older glibc, musl) the standard lookup runs unchanged.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType


def _libc_has_pthread() -> bool:
    """Whether this is glibc 2.34 or later (libpthread merged into libc.so.6)."""
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
        major, minor = (int(part) for part in version.split(".")[:2])
    except (ValueError, OSError, AttributeError):
        return False
    return name == "glibc" and (major, minor) >= (2, 34)


def import_trio() -> ModuleType:
    """``import trio``, with libpthread found without ldconfig where glibc has it built in."""
    if "trio" in sys.modules or not _libc_has_pthread():
        import trio

        return trio
    import ctypes.util

    standard = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        return "libc.so.6" if name == "pthread" else standard(name)

    ctypes.util.find_library = find_library
    try:
        import trio
    finally:
        ctypes.util.find_library = standard
    return trio
