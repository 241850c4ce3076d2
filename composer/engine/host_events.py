"""``system events``: the host's events. Container actions of every project's and every
``container run`` container, live from a :class:`ProjectMonitor` that selects them all, and in
the past from every project's event log plus the times each container's state records; image,
network and volume events from the host's object log (``composer.engine.object_events``)."""

from __future__ import annotations

import os

from composer.engine import object_events
from composer.engine.monitor import ProjectMonitor, past_changes
from composer.engine.runtime import libc


class HostMonitor(ProjectMonitor):
    """A monitor of every container (one-off ones too), not of one project, and of the object log."""

    def __init__(self) -> None:
        self.objects = object_events.Follower()  # first: the live part misses nothing after ``opened``
        super().__init__("")
        libc.inotify_add_watch(self.fd, os.path.dirname(self.objects.path), libc.IN_MODIFY | libc.IN_CREATE)

    def selects(self, view) -> bool:
        return True

    def wait_changes(self, timeout: float | None = None) -> list:
        """The containers' changes and the object log's new events since the last call."""
        found: list = super().wait_changes(timeout)
        found += [event for event in self.objects.new_events() if event.time > self.opened]  # (older: history's)
        return sorted(found, key=lambda item: item.time)

    def history(self, since: float, until: float | None = None) -> list:
        """The changes and object events between ``since`` and ``until``, oldest first: the event
        logs of all projects, for a container no log saw the changes its recorded times tell (a
        removed one: as its last state told them), and the object log."""
        from composer.engine import journal
        from composer.settings import state_root_dir

        end = self.opened if until is None else min(until, self.opened)
        try:
            logs = sorted(name for name in os.listdir(os.path.join(state_root_dir(), "events")) if name.endswith(".jsonl"))
        except FileNotFoundError:
            logs = []
        every = [change for name in logs for change in journal.read(name[:-len(".jsonl")], 0.0, self.opened)]
        seen = {change.view.id for change in every}
        found: list = [change for change in every if since <= change.time <= end]
        found += [change for view in self.views.values() if view.id not in seen for change in past_changes(view)
                  if since <= change.time <= end]
        found += journal.read_removed(since, end) + object_events.read(since, end)
        return sorted(found, key=lambda item: item.time)
