"""config.json as a supervisor sees it: ``update``, ``network connect`` and ``disconnect``
rewrite it (atomically, by a rename) while the container runs; the supervisor looks again after
every start and exit, and parses the file only when its stamp (inode, mtime, size) changed."""

from __future__ import annotations

import os

from composer.engine.runtime.config import ContainerConfig
from composer.engine.runtime.state import parse_json


def file_stamp(result: os.stat_result) -> tuple[int, int, int]:
    """What changes whenever config.json is rewritten: a rename brings a new inode."""
    return result.st_ino, result.st_mtime_ns, result.st_size


class ConfigWatch:
    """One container's config.json, parsed again only when its stamp changed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stamp: tuple[int, int, int] | None = None
        self.config: ContainerConfig | None = None
        self.parses = 0  # how many times the file was parsed (tests)

    def load(self) -> ContainerConfig:
        """The configuration now, parsed (its stamp remembered). Raises OSError or ValueError."""
        with open(self.path, "rb") as handle:
            stamp = file_stamp(os.fstat(handle.fileno()))
            text = handle.read().decode()
        self.config = ContainerConfig.from_dict(parse_json(text))
        self.parses += 1
        self.stamp = stamp
        return self.config

    def current(self) -> ContainerConfig | None:
        """The configuration now: the last one parsed unless the file changed since; None if it
        cannot be read or parsed (the caller keeps what it has). Treat it as read-only."""
        try:
            if self.config is not None and file_stamp(os.stat(self.path)) == self.stamp:
                return self.config
            return self.load()
        except (OSError, ValueError, TypeError):
            return None
