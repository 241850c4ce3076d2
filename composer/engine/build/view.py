"""A read-only merged view of a stack of layer directories (a stage's or an image's root).

COPY --from reads another stage's files through it, and COPY/ADD look up the current stage's
/etc/passwd, /etc/group and destination directories in it. One layer is used directly; several
are stacked with a read-only overlay mount (no upper dir) that is always unmounted on exit.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from composer.errors import BuildError


@contextmanager
def merged(layers: Sequence[Path], scratch: Path) -> Iterator[Path]:
    """The merged root of ``layers`` (bottom first) as a directory, for the ``with`` block."""
    if len(layers) == 1:
        yield Path(layers[0])
        return
    scratch.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(dir=scratch, prefix="view-"))
    try:
        if not layers:
            yield target
            return
        from composer.engine.runtime import libc

        lower = ":".join(str(layer) for layer in reversed(layers))
        try:
            libc.mount("overlay", str(target), "overlay", libc.MS_RDONLY, f"lowerdir={lower}")
        except OSError as error:
            raise BuildError(f"cannot mount the view of {len(layers)} layers: {error}",
                             hint="the build needs root and overlayfs") from None
        try:
            yield target
        finally:
            libc.umount(str(target), libc.MNT_DETACH)
    finally:
        os.rmdir(target)
