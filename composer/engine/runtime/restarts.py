"""A supervisor's restart decisions: docker's restart policies and its back-off (moby's
restartmanager)."""

from __future__ import annotations

BACKOFF_START, BACKOFF_MAX, BACKOFF_RESET_AFTER = 0.1, 60.0, 10.0  # docker's restart manager


class RestartBackoff:
    """Docker's restart delays (moby's restartmanager): 100 ms before the first restart, doubled
    before each next one, at most one minute, and back to 100 ms after a life of 10 s or more."""

    def __init__(self) -> None:
        self.delay = 0.0

    def next(self, ran_for: float) -> float:
        """The wait before restarting a container whose last life lasted ``ran_for`` seconds."""
        if ran_for >= BACKOFF_RESET_AFTER:
            self.delay = 0.0
        self.delay = min(self.delay * 2, BACKOFF_MAX) if self.delay else BACKOFF_START
        return self.delay


def restart_wanted(policy: dict | None, exit_code: int, restart_count: int, manually_stopped: bool) -> bool:
    """Whether restart ``policy`` (docker's {"Name", "MaximumRetryCount"}) restarts a container
    that exited with ``exit_code`` after ``restart_count`` restarts."""
    policy = policy or {}
    name = policy.get("Name") or "no"
    if name == "no" or manually_stopped:
        return False
    if name == "on-failure":
        limit = policy.get("MaximumRetryCount") or 0
        return exit_code != 0 and (limit <= 0 or restart_count < limit)
    return name in ("always", "unless-stopped")
