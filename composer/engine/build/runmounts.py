"""``RUN --mount=...``: cache, bind and tmpfs mounts of a build container.

- ``type=cache``: a directory kept by the builder across builds (``id`` or the target names it),
  optionally owned by ``uid``/``gid`` with ``mode``; its content never enters a layer.
- ``type=bind``: a read-only bind of a path of the context, or of another stage or image
  (``from=``); ``rw`` is refused (BuildKit would discard the writes, a host bind would not).
- ``type=tmpfs``: a fresh tmpfs (``size=`` honoured).

Mount points the runtime had to create (absent from the image) are removed from the step's
upper dir afterwards, so a mount leaves no trace in the layer.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from composer.engine.build.context import BuildContext
from composer.engine.build.instructions import parse_mount
from composer.errors import BuildError

if TYPE_CHECKING:
    from composer.engine.runtime.config import Mount

    from composer.engine.build.steps import Step


def build_mounts(step: Step, stack: ExitStack) -> list[Mount]:
    """The runtime mounts of a RUN's ``--mount`` flags (views stay mounted until ``stack`` ends)."""
    from composer.engine.runtime.config import Mount

    mounts = []
    for text in step.inst.flag_all("mount"):
        spec = parse_mount(step.state.expand(text))
        kind, target = spec["type"], spec.get("target", "")
        if not target.startswith("/"):
            target = os.path.join(step.state.config.get("WorkingDir") or "/", target)
        if kind == "cache":
            mounts.append(Mount(type="bind", target=target, source=str(_cache_dir(spec, target))))
        elif kind == "bind":
            mounts.append(Mount(type="bind", target=target, source=_bind_source(step, spec, stack),
                                readonly=True))
        elif kind == "tmpfs":
            size = f"size={spec['size']}" if spec.get("size") else ""
            mounts.append(Mount(type="tmpfs", target=target, options=size))
        else:
            raise BuildError(f"RUN --mount=type={kind} is not supported by this builder",
                             hint="use type=cache, bind or tmpfs")
    return mounts


def _cache_dir(spec: dict[str, str], target: str) -> Path:
    from composer.engine.build.executor import builder_root

    name = spec.get("id") or target
    path = builder_root() / "mounts" / hashlib.sha256(name.encode()).hexdigest()[:32]
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, int(spec.get("uid", 0)), int(spec.get("gid", 0)))
        os.chmod(path, int(spec.get("mode", "755"), 8))
    return path


def _bind_source(step: Step, spec: dict[str, str], stack: ExitStack) -> str:
    if spec.get("rw") in ("true", "1") or spec.get("readwrite") in ("true", "1"):
        raise BuildError("RUN --mount=type=bind,rw is not supported", hint="copy the files in and change them")
    origin = spec.get("from")
    if origin is None:
        context = step.builder.context
        assert context is not None
    else:
        found = step.builder.stage_result(origin, step.inst)
        dirs = found.dirs if found is not None else step.builder.image(origin, step.inst)[3]
        from composer.engine.build.view import merged

        context = BuildContext.from_rootfs(stack.enter_context(merged(dirs, step.builder.scratch)))
    rel = BuildContext.clean(spec.get("source", "."))
    return str(context.root / context.follow(rel, spec.get("source", ".")))


def drop_stubs(upper: Path, mounts: Sequence[Mount], lower: Sequence[Path]) -> None:
    """Remove mount points the runtime created in ``upper`` (empty, and absent from every lower)."""
    for mount in mounts:
        rel = mount.target.strip("/")
        if not rel or any(os.path.lexists(layer / rel) for layer in lower):
            continue
        parts = rel.split("/")
        if any(os.path.islink(upper.joinpath(*parts[:depth])) for depth in range(1, len(parts) + 1)):
            continue  # the step put a link on the way: leave it all to the layer, follow nothing
        for depth in range(len(parts), 0, -1):  # the target, then parents made only for it
            sub = "/".join(parts[:depth])
            if any(os.path.lexists(layer / sub) for layer in lower) or not _remove_empty(upper / sub):
                break


def _remove_empty(path: Path) -> bool:
    """Remove an empty directory or empty file (never through a link); whether it went."""
    try:
        info = os.lstat(path)
        if os.path.isdir(path):
            os.rmdir(path)
        elif info.st_size == 0 and not os.path.islink(path):
            os.unlink(path)
        else:
            return False
    except OSError:
        return False
    return True
