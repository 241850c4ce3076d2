"""The plan pulls a missing image a ``type: image`` volume mounts (Compose 2.40's
pullRequiredImages): whatever ``--pull``/``pull_policy`` say, never a present one, not by pull."""

from __future__ import annotations

from composer.engine.options import UpOptions

MOUNTS = """
services:
  web:
    image: busybox
    pull_policy: never
    volumes:
      - data:/data
      - {type: image, source: "reg.test/assets:1", target: /assets}
volumes:
  data: {}
"""


def test_a_missing_mount_image_is_pulled_before_the_create(load, service):
    text = service.plan_up(load(MOUNTS)).text()
    assert "pull image:reg.test/assets:1 (image not found)" in text
    assert "create service:web:1 (no container) <- create volume:data, pull image:reg.test/assets:1" in text


def test_pull_never_or_always_changes_nothing_for_mount_images(load, service, fake):
    project = load(MOUNTS)
    assert "pull image:reg.test/assets:1" in service.plan_up(project, UpOptions(pull="never")).text()
    fake.images["reg.test/assets:1"] = "sha256:" + "a" * 64
    assert "pull image:reg.test/assets:1" not in service.plan_up(project, UpOptions(pull="always")).text()


def test_up_pulls_it_first_and_pull_does_not(load, service, fake):
    project = load(MOUNTS)
    service.pull(project)
    assert "reg.test/assets:1" not in fake.images  # compose pull: the services' own images only
    service.up(project)
    assert fake.images.get("reg.test/assets:1")
    assert [c.target for c in fake.calls_of("pull")] == ["busybox", "reg.test/assets:1"]


def test_an_image_a_service_builds_is_not_pulled_for_a_volume(load, service, tmp_path):
    project = load("""
    services:
      maker:
        build: .
        image: reg.test/made:1
      web:
        image: busybox
        volumes: [{type: image, source: "reg.test/made:1", target: /made}]
    """)
    assert "pull image:reg.test/made:1" not in service.plan_up(project).text()
