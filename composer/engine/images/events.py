"""Progress events that image operations emit and the CLI renders (library code never prints)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step of one item: ``id`` is a short layer digest (or a reference), as docker shows it.

    ``status`` is docker's wording: Waiting, Downloading, Verifying Checksum, Download complete,
    Extracting, Pull complete, Already exists, Pushing, Pushed, Layer already exists, Mounted from.
    """

    id: str
    status: str
    current: int = 0
    total: int = 0


EventSink = Callable[[ProgressEvent], None]


def ignore(_: ProgressEvent) -> None:
    """The default sink: drop events."""


def short(digest: str) -> str:
    """The 12-hex-digit form docker prints for a layer."""
    return digest.removeprefix("sha256:")[:12]
