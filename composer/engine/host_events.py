"""``system events``: the container actions of the whole host (every project's and every
``container run`` container), live from a :class:`ProjectMonitor` that selects them all, and in
the past from every project's event log plus the times each container's state records."""

from __future__ import annotations

import os

from composer.engine.monitor import Change, ProjectMonitor, past_changes


class HostMonitor(ProjectMonitor):
    """A monitor of every container (one-off ones too), not of one project."""

    def __init__(self) -> None:
        super().__init__("")

    def selects(self, view) -> bool:
        return True

    def history(self, since: float, until: float | None = None) -> list[Change]:
        """The changes between ``since`` and ``until``, oldest first: the event logs of all
        projects, and for a container no log saw, the changes its recorded times tell."""
        from composer.engine import journal
        from composer.settings import state_root_dir

        end = self.opened if until is None else min(until, self.opened)
        try:
            logs = sorted(name for name in os.listdir(os.path.join(state_root_dir(), "events")) if name.endswith(".jsonl"))
        except FileNotFoundError:
            logs = []
        every = [change for name in logs for change in journal.read(name[:-len(".jsonl")], 0.0, self.opened)]
        seen = {change.view.id for change in every}
        found = [change for change in every if since <= change.time <= end]
        found += [change for view in self.views.values() if view.id not in seen for change in past_changes(view)
                  if since <= change.time <= end]
        return sorted(found, key=lambda change: change.time)
