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
# A starting container's output, then this much quiet: probe now rather than at the next
# start_interval (a service logs that it is ready as it becomes so: postgres, uvicorn, nginx ...).
OUTPUT_SETTLE = 0.02


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
        self.next_probe = started + self._gap(started)  # the regular schedule (docker's)
        self.last_end = started  # when the last probe ended
        self.output_at: float | None = None  # the last output no probe began after (while starting)

    def _gap(self, now: float) -> float:
        return self.start_interval if self._starting(now) else self.interval

    def due(self) -> float:
        """When the next probe should start (monotonic seconds): the regular schedule, brought
        forward while starting by output no probe has seen yet, once it settled (``output_seen``),
        at the earliest a quarter start_interval after the last probe (chatty or probe-triggered
        output probes at most four times as often)."""
        if self.output_at is None:
            return self.next_probe
        nudged = max(self.output_at + OUTPUT_SETTLE, self.last_end + self.start_interval / 4)
        return min(self.next_probe, nudged)

    def output_seen(self, now: float) -> None:
        """The container wrote output at ``now``: while starting, the next probe comes once it
        settles (saves most of a start_interval between "ready" and healthy)."""
        if self._starting(now):
            self.output_at = now

    def probe_started(self) -> None:
        """A probe begins: it sees the effects of the output so far."""
        self.output_at = None

    def _starting(self, now: float) -> bool:
        return self.status == "starting" and now < self.started + self.start_period

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
        self.next_probe, self.last_end = now + self._gap(now), now
        if not self._starting(now):
            self.output_at = None
        return self.status != before

    def state(self) -> dict:
        """docker's ``State.Health``."""
        return {"Status": self.status, "FailingStreak": self.streak, "Log": self.log}
