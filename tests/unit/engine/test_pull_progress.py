"""Pull progress reaches the display at most ~10 times a second per image, and always its end."""

from __future__ import annotations

from typing import Any

from composer.engine.events import Status, throttled
from composer.engine.options import UpOptions
from composer.engine.runtime.fake import FakeRuntime

MIB = 1 << 20


def test_repeated_steps_are_throttled_and_every_other_step_passes(monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("composer.engine.events.time.monotonic", lambda: clock[0])
    seen: list[tuple[str, Any]] = []
    report = throttled(lambda status, detail: seen.append((status, detail.get("current"))))
    report("Pulling fs layer", {})
    for done in range(1, 31):  # 30 MiB in 0.3 s: one MiB each 10 ms
        report("Downloading", {"current": done * MIB, "total": 40 * MIB})
        clock[0] += 0.01
    report("Downloading", {"current": 40 * MIB, "total": 40 * MIB})  # its end always passes
    report("Download complete", {"current": 40 * MIB, "total": 40 * MIB})
    assert seen == [("Pulling fs layer", None), ("Downloading", MIB), ("Downloading", 11 * MIB),
                    ("Downloading", 21 * MIB), ("Downloading", 40 * MIB), ("Download complete", 40 * MIB)]


class SlowPull(FakeRuntime):
    """A pull reporting every MiB of a 200 MiB layer at once."""

    def pull_image(self, reference: str, on_event: Any = None) -> str:
        for done in range(1, 201):
            on_event("Downloading", {"id": "layer", "current": done * MIB, "total": 200 * MIB})
        on_event("Pull complete", {"id": "layer", "current": 200 * MIB, "total": 200 * MIB})
        return super().pull_image(reference)


def test_an_up_pull_emits_a_few_progress_events(load, events, state_root) -> None:
    from composer.engine.api import ProjectService

    service = ProjectService(SlowPull(), emit=events.append, lock_timeout=5)
    service.up(load("services:\n  web: {image: redis}\n"), UpOptions(no_start=True))
    pulling = [e.text for e in events if e.kind == "Image" and e.status is Status.PULLING and e.text]
    assert pulling[0] == "Downloading" and pulling[-1] == "Pull complete" and len(pulling) < 10
    assert [e.status for e in events if e.kind == "Image"][-1] is Status.PULLED
