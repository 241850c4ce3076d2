"""Import trio without the work its import does for features composer never uses.

``import trio`` is the longest part of a short ``up``/``down`` (it holds the GIL while the head
start's calls run). Three parts of it serve nothing of ours, so for the length of the import:

- its thread cache looks up libpthread with ``ctypes.util.find_library``, which imports
  ``ctypes.util`` (tempfile, random ...) and runs ``/sbin/ldconfig -p`` (a fork and exec,
  ~10 ms, far more under load). Since glibc 2.34 the pthread functions live in libc itself, so
  on such a system the lookup is answered with libc by a stand-in ``ctypes.util``; anywhere else
  (older glibc, musl) the standard lookup runs unchanged;
- ``ssl`` (libssl's dlopen), ``hmac`` (libcrypto's), ``idna`` and ``subprocess`` (with locale)
  are imported by trio's TLS, DTLS, hostname and process modules, which use them only inside
  functions composer never calls: they are :class:`Deferred` there, the real module imported at
  the first use of one of its names.

Afterwards ``sys.modules`` holds no stand-in: any later ``import ssl`` gets the real module.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

DEFERRED = ("ssl", "hmac", "idna", "subprocess")
"""Modules trio imports but uses only in functions composer never calls."""


class Deferred(ModuleType):
    """A stand-in for a module: the first name looked up in it imports the real one."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_real(self.__name__), name)


def _real(name: str) -> ModuleType:
    """The real module ``name`` (imported now if only a stand-in is there)."""
    module = sys.modules.get(name)
    if module is None or isinstance(module, Deferred):
        import importlib

        sys.modules.pop(name, None)
        module = importlib.import_module(name)
    return module


def _libc_has_pthread() -> bool:
    """Whether this is glibc 2.34 or later (libpthread merged into libc.so.6)."""
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
        major, minor = (int(part) for part in version.split(".")[:2])
    except (ValueError, OSError, AttributeError):
        return False
    return name == "glibc" and (major, minor) >= (2, 34)


def _find_library(name: str) -> str | None:
    """``ctypes.util.find_library`` for trio's import: libc for pthread, else the real lookup."""
    if name == "pthread":
        return "libc.so.6"
    return _real("ctypes.util").find_library(name)


def _stand_ins() -> dict[str, ModuleType]:
    """The stand-ins to put in ``sys.modules`` for trio's import (none for a module already there)."""
    chosen: dict[str, ModuleType] = {name: Deferred(name) for name in DEFERRED if name not in sys.modules}
    if "ctypes.util" not in sys.modules and _libc_has_pthread():
        util = Deferred("ctypes.util")
        util.find_library = _find_library  # type: ignore[attr-defined]
        chosen["ctypes.util"] = util
    return chosen


def import_trio() -> ModuleType:
    """``import trio``, with the stand-ins above in place for the length of the import."""
    if "trio" in sys.modules:
        return sys.modules["trio"]
    import ctypes

    chosen = _stand_ins()
    sys.modules.update(chosen)
    if "ctypes.util" in chosen:
        ctypes.util = chosen["ctypes.util"]  # type: ignore[attr-defined]  # `import ctypes.util` reads it
    try:
        import trio
    finally:
        for name, stand_in in chosen.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
        if getattr(ctypes, "util", None) is chosen.get("ctypes.util", False):
            del ctypes.util  # type: ignore[attr-defined]
    return trio
