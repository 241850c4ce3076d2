"""Healthchecks as docker runs them: probe scheduling and the status they lead to.

Pure bookkeeping (no processes): the supervisor asks ``due(now)`` when to probe, starts the
probe through ``execute.spawn``, and reports each result with ``record``; ``state()`` is what
goes into state.json as ``State.Health``. Durations in the config are nanoseconds (docker's).
"""

from __future__ import annotations

from composer.engine.runtime.logs import timestamp

NS = 1e9
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_START_INTERVAL = 5.0
DEFAULT_RETRIES = 3
MAX_OUTPUT = 4096
KEEP_RESULTS = 5


def probe_argv(test: list[str]) -> list[str] | None:
    """The command of a healthcheck ``Test`` (None for NONE or an empty test)."""
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD":
        return list(test[1:]) or None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    return ["/bin/sh", "-c", " ".join(test)]  # a bare string, as compose's shorthand


class HealthMonitor:
    """The health of one running container."""

    def __init__(self, spec: dict, started: float) -> None:
        self.argv = probe_argv(spec.get("Test") or [])
        self.interval = (spec.get("Interval") or 0) / NS or DEFAULT_INTERVAL
        self.timeout = (spec.get("Timeout") or 0) / NS or DEFAULT_TIMEOUT
        self.start_period = (spec.get("StartPeriod") or 0) / NS
        self.start_interval = (spec.get("StartInterval") or 0) / NS or DEFAULT_START_INTERVAL
        self.retries = spec.get("Retries") or DEFAULT_RETRIES
        self.started = started
        self.status = "starting"
        self.streak = 0
        self.log: list[dict] = []
        self.next_probe = started + self._gap(started)

    def _gap(self, now: float) -> float:
        starting = self.status == "starting" and now < self.started + self.start_period
        return self.start_interval if starting else self.interval

    def due(self) -> float:
        """When the next probe should start (monotonic seconds)."""
        return self.next_probe

    def record(self, now: float, start_wall: float, exit_code: int, output: str) -> bool:
        """Account one probe's result; True when the status changed."""
        before = self.status
        self.log = (self.log + [{"Start": timestamp(start_wall), "End": timestamp(), "ExitCode": exit_code,
                                 "Output": output[:MAX_OUTPUT]}])[-KEEP_RESULTS:]
        if exit_code == 0:
            self.status, self.streak = "healthy", 0
        elif now < self.started + self.start_period and self.status == "starting":
            pass  # failures in the start period do not count
        else:
            self.streak += 1
            if self.streak >= self.retries:
                self.status = "unhealthy"
        self.next_probe = now + self._gap(now)
        return self.status != before

    def state(self) -> dict:
        """docker's ``State.Health``."""
        return {"Status": self.status, "FailingStreak": self.streak, "Log": self.log}
