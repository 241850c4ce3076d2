"""``develop.watch``: keep running services in step with the files a developer edits.

- ``rules``: the Compose Specification's ``develop.watch`` entries of a project as typed
  :class:`~composer.engine.watch.rules.WatchRule` objects (path, action, target, ignore, include,
  initial_sync, exec), with located errors.
- ``batch``: pure: a batch of file-system changes -> what to do per service (files to copy into
  the containers, paths to delete, restart, exec, or rebuild + recreate).
- ``runner``: :class:`~composer.engine.watch.runner.Watcher` applies those actions through
  :class:`composer.engine.api.ProjectService` and the runtime (copy, exec, restart, up --build), and
  ``watch`` drives it from inotify events (the ``watchfiles`` library), debounced into batches.

The engine never prints: each action is reported as one line of text through a callback.
"""

from composer.engine.watch.batch import ServiceActions, plan_batch
from composer.engine.watch.rules import WatchRule, rules_for

__all__ = ["ServiceActions", "WatchRule", "plan_batch", "rules_for"]
