"""``pull_policy: daily | weekly | every_<duration>`` (and ``refresh`` + ``pull_refresh_after``):
the windows, the store's record of the last pull, and the plan, with a fake clock."""

from __future__ import annotations

import pytest

from composer.engine.api import ProjectService
from composer.engine.images import freshness
from composer.engine.images.store import ImageStore
from composer.errors import SemanticError

from tests.unit.engine.conftest import events, fake, load, service  # noqa: F401

HOUR = 3600.0
BUSYBOX = "docker.io/library/busybox:latest"
BUSYBOX_ID = "sha256:" + "b" * 64  # the id the engine's fake runtime knows busybox by


@pytest.mark.parametrize(("policy", "after", "seconds"), [
    ("daily", None, 24 * HOUR), ("weekly", None, 7 * 24 * HOUR), ("every_12h", None, 12 * HOUR),
    ("every_1h30m", None, 1.5 * HOUR), ("every_2w", None, 14 * 24 * HOUR), ("every_1d", None, 24 * HOUR),
    ("every_45s", None, 45.0), ("refresh", "3h", 3 * HOUR),
])
def test_refresh_windows(policy, after, seconds):
    assert freshness.refresh_window(policy, after) == seconds


@pytest.mark.parametrize("policy", ["missing", "if_not_present", "always", "never", "build", "refresh"])
def test_other_policies_have_no_window(policy):
    assert freshness.refresh_window(policy) is None


def test_a_bad_duration_names_the_field():
    with pytest.raises(SemanticError, match="invalid duration") as caught:
        freshness.refresh_window("every_soon", path="services.web")
    assert "services.web.pull_policy" in str(caught.value.location)


def test_due_once_the_window_has_passed():
    assert freshness.is_due(HOUR, None, 0.0)  # never pulled here
    assert not freshness.is_due(HOUR, 1000.0, 1000.0 + HOUR)
    assert freshness.is_due(HOUR, 1000.0, 1000.0 + HOUR + 1)


def _pulled_at(image, when: float) -> ImageStore:
    """busybox (``image``, imported into the test's store) recorded as pulled at ``when``."""
    store = ImageStore()
    store.record_pull(BUSYBOX, image.id, when=when)
    return store


def test_pull_now_reads_the_recorded_pull(busybox_image):
    store = _pulled_at(busybox_image, 1000.0)
    assert freshness.pull_now("every_12h", "busybox", clock=lambda: 1000 + 12 * HOUR - 1) == "missing"
    assert freshness.pull_now("every_12h", "busybox", clock=lambda: 1000 + 12 * HOUR + 1) == "always"
    assert freshness.pull_now("missing", "busybox", clock=lambda: 1e12) == "missing"
    digest = "busybox@sha256:" + "c" * 64
    assert freshness.pull_now("daily", digest, store=store, clock=lambda: 1e12) == "missing"
    assert freshness.pull_now("weekly", "never-pulled:1", store=store, clock=lambda: 1001.0) == "always"


def test_a_name_moved_since_its_pull_is_stale():
    db = {"refs": {BUSYBOX: "sha256:" + "f" * 64}, "pulled": {BUSYBOX: ["sha256:" + "b" * 64, 1000.0]}}
    assert ImageStore.last_pull(db, BUSYBOX) is None  # re-tagged, loaded or built since its pull
    db["refs"][BUSYBOX] = "sha256:" + "b" * 64
    assert ImageStore.last_pull(db, BUSYBOX) == 1000.0


@pytest.mark.parametrize(("age", "pulls"), [(HOUR, 0), (25 * HOUR, 1)])
def test_up_pulls_a_daily_image_only_when_a_day_old(load, fake, busybox_image, monkeypatch,  # noqa: F811
                                                    age, pulls):
    _pulled_at(busybox_image, 1000.0)
    fake.images["busybox"] = busybox_image.id
    monkeypatch.setattr("composer.engine.images.freshness.time.time", lambda: 1000.0 + age)
    ProjectService(fake).up(load("services:\n  web: {image: busybox, pull_policy: daily}\n"))
    assert len(fake.calls_of("pull")) == pulls


def test_a_built_image_is_not_pulled_by_its_window(load, fake, busybox_image, monkeypatch):  # noqa: F811
    """A service with ``build:`` keeps its present image whatever the window says (it is built, not pulled)."""
    fake.images["demo-app"] = busybox_image.id
    monkeypatch.setattr("composer.engine.images.freshness.time.time", lambda: 1e12)
    ProjectService(fake, builder=lambda service, reference: busybox_image.id).up(
        load("services:\n  app: {build: ., pull_policy: daily}\n"))
    assert not fake.calls_of("pull")
