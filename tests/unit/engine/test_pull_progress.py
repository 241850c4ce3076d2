"""Pull progress reaches the display at most ~10 times a second per image, and always its end; the
pull lines as Compose 2.40 prints them (named by service, layers under it, ``Skipped`` shares)."""

from __future__ import annotations

from typing import Any

from composer.engine.events import Event, Status, layer_event, throttled
from composer.engine.options import UpOptions
from composer.engine.runtime.fake import FakeRuntime

MIB = 1 << 20
LAYER = "723168d4a078"


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

    def pull_image(self, reference: str, on_event: Any = None, platform: str = "") -> str:
        for done in range(1, 201):
            on_event("Downloading", {"id": LAYER, "current": done * MIB, "total": 200 * MIB})
        on_event("Pull complete", {"id": LAYER, "current": 200 * MIB, "total": 200 * MIB})
        return super().pull_image(reference)


def test_an_up_pull_emits_a_few_progress_events(load, events, state_root) -> None:
    from composer.engine.api import ProjectService

    service = ProjectService(SlowPull(), emit=events.append, lock_timeout=5)
    service.up(load("services:\n  web: {image: redis}\n"), UpOptions(no_start=True))
    layers = [e.text for e in events if e.parent == "web"]  # the layer's lines, under its service's
    assert layers[0] == "Downloading" and layers[-1] == "Pull complete" and len(layers) < 10
    assert [(e.name, e.status) for e in events if not e.kind and not e.parent][-1] == ("web", Status.PULLED)


def test_layer_lines_as_dockerd_renders_its_progress():
    from composer.cli.progress import Progress

    def plain(event) -> str:
        return Progress._plain(event)

    assert plain(layer_event("web", LAYER, "Downloading", 32768, 2140000)) == \
        f" {LAYER} Downloading [>{' ' * 50}]  32.77kB/2.14MB"
    assert plain(layer_event("web", LAYER, "Extracting", 2140000, 2140000)) == \
        f" {LAYER} Extracting [{'=' * 50}>]   2.14MB/2.14MB"
    assert plain(layer_event("web", LAYER, "Verifying Checksum", 5, 5)) == f" {LAYER} Verifying Checksum "
    assert layer_event("web", LAYER, "Pull complete").done and not layer_event("web", LAYER, "Waiting").done
    assert plain(Event("", "web", Status.PULLING)) == " web Pulling "
    assert plain(Event("", "other", Status.SKIPPED, text="Image is already being pulled by web")) == \
        " other Skipped - Image is already being pulled by web "
    assert plain(Event("", "web", Status.ERROR, text="no such host")) == " web Error no such host"


def test_pull_names_services_and_skips_shared_images(load, events, state_root) -> None:
    from composer.engine.api import ProjectService

    service = ProjectService(SlowPull(), emit=events.append, lock_timeout=5)
    project = load("services:\n  a: {image: redis}\n  b: {image: redis}\n  c: {image: nginx}\n")
    service.pull(project, quiet=True)
    shown = sorted(f"{e.name} {e.status.value} {e.text}".strip() for e in events)  # -q: no layer lines
    assert shown == ["a Pulled", "a Pulling", "b Skipped Image is already being pulled by a", "c Pulled", "c Pulling"]
    events.clear()
    service.up(load("services:\n  a: {image: alpine}\n  b: {image: alpine}\n"), UpOptions(no_start=True))
    assert sorted(f"{e.name} {e.status.value}" for e in events if not e.kind and not e.parent) == \
        ["a Pulled", "a Pulling", "b Pulled", "b Pulling"]  # up: every service's own lines


def test_a_failed_shared_pull_fails_every_services_line(load, events, state_root) -> None:
    import pytest

    from composer.engine.api import ProjectService
    from composer.errors import ComposerError

    runtime = FakeRuntime()
    runtime.pullable = False
    service = ProjectService(runtime, emit=events.append, lock_timeout=5)
    with pytest.raises(ComposerError):
        service.up(load("services:\n  a: {image: ghost}\n  b: {image: ghost}\n"), UpOptions(no_start=True))
    assert sorted(f"{e.name} {e.status.value}" for e in events if not e.kind) == \
        ["a Error", "a Pulling", "b Error", "b Pulling"]
