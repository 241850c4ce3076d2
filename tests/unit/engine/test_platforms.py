"""A service's ``platform:`` as Compose 2.40 and dockerd treat it: a present image of another
platform is pulled for the named one (``pull_policy: never``: not), and a create whose image
still is of another platform is refused in dockerd's words."""

from __future__ import annotations

import pytest

from composer.engine.images.platforms import mismatch, runs_on
from composer.engine.options import UpOptions
from composer.errors import ComposerError


def test_platforms_match_as_containerd_matches_them():
    assert runs_on("linux/arm64", "linux/arm64/v8") and runs_on("linux/arm64/v8", "linux/arm64")
    assert runs_on("linux/amd64", "linux/x86_64") and not runs_on("linux/amd64", "linux/arm64")
    assert runs_on("linux/arm/v7", "linux/arm/v6") and not runs_on("linux/arm/v6", "linux/arm/v7")
    assert not runs_on("windows/amd64", "linux/amd64")
    assert mismatch("busybox", "linux/arm64", "linux/amd64") == (
        "image with reference busybox was found but does not match the specified platform: "
        "wanted linux/arm64, actual: linux/amd64")
    assert mismatch("busybox", "", "linux/amd64") is None


def test_a_present_image_of_another_platform_is_pulled_for_the_service(load, service, fake, events):
    fake.images["busybox"] = "sha256:" + "1" * 64  # linux/amd64 (the fake's default)
    project = load("services:\n  web: {image: busybox, platform: linux/arm64}\n")
    service.up(project, UpOptions(no_start=True))
    pulls = fake.calls_of("pull")
    assert [call.target for call in pulls] == ["busybox"] and fake.platforms["busybox"] == "linux/arm64"
    assert "web Pulled" in [f"{e.name} {e.status.value}" for e in events]
    events.clear()
    service.up(project, UpOptions(no_start=True))  # the right platform is here now: nothing pulled again
    assert len(fake.calls_of("pull")) == 1


def test_a_create_of_another_platform_is_refused_in_dockerds_words(load, service, fake):
    fake.images["busybox"] = "sha256:" + "1" * 64
    project = load("services:\n  web: {image: busybox, platform: linux/arm64, pull_policy: never}\n")
    with pytest.raises(ComposerError) as caught:
        service.up(project)
    assert "image with reference busybox was found but does not match the specified platform: " \
           "wanted linux/arm64, actual: linux/amd64" in str(caught.value)
    assert not fake.calls_of("pull") and fake.names() == []


def test_platform_specifiers_as_dockers_cli_parses_them():
    from composer.engine.images.archive import host_architecture
    from composer.engine.images.platforms import parse_specifier
    from composer.errors import ImageError

    assert [parse_specifier(text) for text in ("linux/amd64", "amd64", "x86_64", "Linux/AMD64", "arm64",
                                               "linux/aarch64", "linux/arm/v7", "linux/arm/v6", "windows/amd64",
                                               "linux/bogus")] == \
        ["linux/amd64", "linux/amd64", "linux/amd64", "linux/amd64", "linux/arm64", "linux/arm64", "linux/arm/v7",
         "linux/arm/v6", "windows/amd64", "linux/bogus"]  # (two parts: any architecture, as containerd)
    assert parse_specifier("linux") == f"linux/{host_architecture()}"
    for text, words in (("bogus", '"bogus": unknown operating system or architecture: invalid argument'),
                        ("a/b/c/d", '"a/b/c/d": cannot parse platform specifier'),
                        ("linux/", '"" is an invalid component of "linux/"')):
        with pytest.raises(ImageError) as refused:
            parse_specifier(text)
        assert refused.value.message.startswith("error parsing specified platform: ") and words in refused.value.message
