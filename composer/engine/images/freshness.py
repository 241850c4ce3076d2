"""``pull_policy``'s refresh windows, as Docker Compose reads them (compose-go's ``GetPullPolicy``):
``daily`` (24 h), ``weekly`` (7 d), ``every_<duration>`` (``every_12h``, ``every_1h30m``, units
w d h m s) and ``refresh`` with ``pull_refresh_after``. A present image is pulled again once its
last pull (recorded by the image store) is older than the window; an image never pulled here, or
whose name a tag, load or build moved since, counts as stale. Any other policy is ``missing``.
"""

from __future__ import annotations

import time
from typing import Callable

from composer.engine.images.store import ImageStore

DAY = 86400.0
NAMED_WINDOWS = {"daily": DAY, "weekly": 7 * DAY}


def refresh_window(policy: str, refresh_after: str | None = None, path: str = "") -> float | None:
    """The refresh window of ``policy`` in seconds; None when it is not a refresh policy (a bare
    ``refresh`` without ``pull_refresh_after`` is ``missing``, as compose-go reads it)."""
    from composer.spec.dump import parse_duration

    if policy in NAMED_WINDOWS:
        return NAMED_WINDOWS[policy]
    if policy.startswith("every_"):
        return parse_duration(policy.removeprefix("every_"), (*path.split("."), "pull_policy")) / 1e9
    if policy == "refresh" and refresh_after:
        return parse_duration(refresh_after, (*path.split("."), "pull_refresh_after")) / 1e9
    return None


def is_due(window: float, last_pull: float | None, now: float) -> bool:
    """Whether an image last pulled at ``last_pull`` (None: never) needs pulling ``now``."""
    return last_pull is None or now > last_pull + window


def pull_now(policy: str, reference: str, refresh_after: str | None = None, *, path: str = "",
             store: ImageStore | None = None, clock: Callable[[], float] | None = None) -> str:
    """What a refresh ``policy`` means for the present image ``reference`` right now: ``always``
    once the window has passed, else ``missing`` (any other policy: ``missing`` too)."""
    from composer.engine.images.reference import parse_reference
    from composer.errors import ImageError

    window = refresh_window(policy, refresh_after, path)
    if window is None:
        return "missing"
    try:
        parsed = parse_reference(reference)
    except ImageError:
        return "missing"  # the pull itself reports a bad reference
    if parsed.digest:
        return "missing"  # a digest names one image forever
    store = store or ImageStore()
    last_pull = store.last_pull(store.read_db(), str(parsed))
    return "always" if is_due(window, last_pull, (clock or time.time)()) else "missing"
