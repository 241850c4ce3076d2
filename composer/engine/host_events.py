"""``system events``: the host's events. Container actions of every project's and every
``container run`` container, live from a :class:`ProjectMonitor` that selects them all, and in
the past from every project's event log plus the times each container's state records; image,
network and volume events from the host's object log (``composer.engine.object_events``).

The live stream misses nothing of a quick container (``run -d --rm busybox true`` may be made,
run and removed between two looks): each removal's record in the event logs tells how it ended.
Each action carries the time its state records (a die at FinishedAt), and a round shows only what
happened before it looked (the rest waits for the next round, at once), so the container actions
and the object log's events come in dockerd's order (create, attach, connect, start; die,
disconnect, destroy)."""

from __future__ import annotations

import os
import time

from composer.engine import journal, object_events
from composer.engine.monitor import Change, ProjectMonitor, View, actions, past_changes, timed_changes, view_of
from composer.engine.runtime import libc


class HostMonitor(ProjectMonitor):
    """A monitor of every container (one-off ones too), not of one project, and of the object log."""

    def __init__(self) -> None:
        self.objects = object_events.Follower()  # first: the live part misses nothing after ``opened``
        self.removal_logs: dict[str, object_events.Follower] = {}  # log name -> its follower
        self._follow_removal_logs(from_start=False)
        self.unborn: set[str] = set()  # containers whose state is not written yet (at the last look)
        super().__init__("")
        libc.inotify_add_watch(self.fd, os.path.dirname(self.objects.path), libc.IN_MODIFY | libc.IN_CREATE)
        self.removals: dict[str, dict] = {}  # container id -> its removal record, until its directory is gone
        self.held: list = self.pending  # changes the next round shows: newer than the last look, or
        self.pending = []  # of an unborn container (first: those between ``opened`` and the first look)
        self.due = bool(self.held)  # some of them only wait for the next round (at once)

    def selects(self, view) -> bool:
        return True

    def _view(self, container_id: str) -> View | None:
        """A container's view; None for one whose state is not written yet (a foreground run until
        its network is attached: its first write tells its create, attach and start at once),
        noted in ``unborn`` (its network's connect waits for it)."""
        view = super()._view(container_id)
        if view is not None and not view.created:
            self.unborn.add(container_id)
            return None
        return view

    def _follow_removal_logs(self, from_start: bool) -> None:
        """Follow each log of removals (the projects' logs, ``removed.log``), a new one from its start."""
        directory = os.path.dirname(self.objects.path)
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            names = []
        for name in names:
            if (name.endswith(".jsonl") or name == journal.REMOVED_LOG) and name not in self.removal_logs:
                self.removal_logs[name] = object_events.Follower(os.path.join(directory, name), from_start)

    def wait_changes(self, timeout: float | None = None) -> list:
        """The containers' changes and the object log's new events since the last call, oldest
        first. The containers are looked at first, then the logs: whatever happened before the
        look (``read_at``) is in one of them (a container gone by then left its removal record);
        what happened after it may be missing its earlier part, and waits for the next round."""
        self._wait(0.0 if self.due else timeout)
        read_at = time.time()
        self.unborn = set()
        now = self.snapshot()
        stamp = time.time()
        self._follow_removal_logs(from_start=True)
        for follower in self.removal_logs.values():
            self.removals.update((record["id"], record) for record in follower.new_records()
                                 if record.get("after") is None and record.get("id") and record["time"] > self.opened)
        found = self.held + [event for event in self.objects.new_events()
                             if event.time > self.opened]  # (older: history's)
        for container_id in sorted(set(self.views) | set(now) | set(self.removals)):
            before, after = self.views.get(container_id), now.get(container_id)
            if after is not None:
                found += timed_changes(before, after, stamp)
            elif container_id in self.removals:
                found += self._removed(before, self.removals.pop(container_id))
            elif before is not None:  # gone without a record (a log that could not be written)
                found += [Change(stamp, action, before) for action in actions(before, None)]
        self.views = now
        found.sort(key=lambda item: item.time)
        self.held = [item for item in found if item.time > read_at or self._of_unborn(item)]
        self.due = any(item.time > read_at for item in self.held)
        return [item for item in found if item.time <= read_at and not self._of_unborn(item)]

    def _of_unborn(self, item) -> bool:
        """Whether ``item`` is an object event of a container whose state is not written yet."""
        return isinstance(item, object_events.ObjectEvent) and item.attributes.get("container") in self.unborn

    def _removed(self, before: View | None, record: dict) -> list[Change]:
        """A removed container's actions since ``before`` (None: never seen: those after the
        stream began), as its removal record tells them, then its ``destroy``."""
        last = view_of(record["id"], record["config"], record.get("before") or {})
        if before is None:
            changes = [change for change in past_changes(last) if change.time > self.opened]
        else:
            changes = timed_changes(before, last, record["time"])
        return changes + [Change(record["time"], "destroy", last)]

    def history(self, since: float, until: float | None = None) -> list:
        """The changes and object events between ``since`` and ``until``, oldest first: the event
        logs of all projects, for a container no log saw the changes its recorded times tell (a
        removed one: as its last state told them), and the object log."""
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
        found += journal.read_removed(since, end) + journal.read_health(since, end) + object_events.read(since, end)
        return sorted(found, key=lambda item: item.time)
