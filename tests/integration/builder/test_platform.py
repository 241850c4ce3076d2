"""FROM --platform: the build platform, foreign platforms without RUN, clear errors otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from composer.engine.build.expand import Platform
from composer.engine.images.store import ImageStore
from composer.errors import BuildError
from tests.integration.builder.conftest import write

pytestmark = [pytest.mark.root]


def config_of(image_id: str) -> dict:
    return json.loads(ImageStore().blobs.read(image_id))


def test_build_platform_and_a_foreign_image_without_run(builder, context: Path) -> None:
    write(context, {"f.txt": "f\n"})
    host = Platform.host()
    image_id, _ = builder(context, "FROM --platform=$BUILDPLATFORM busybox\nARG TARGETARCH\n"
                                   "RUN echo $TARGETARCH > /arch\n")
    assert config_of(image_id)["architecture"] == host.arch
    assert (ImageStore().resolve(image_id).layer_dirs[-1] / "arch").read_text() == f"{host.arch}\n"
    foreign = "linux/arm64" if host.arch != "arm64" else "linux/amd64"
    arm_id, _ = builder(context, f"FROM --platform={foreign} scratch\nCOPY f.txt /f.txt\n", tags=("foreign:1",))
    assert config_of(arm_id)["architecture"] == foreign.split("/")[1]
    same, _ = builder(context, "FROM scratch\nCOPY f.txt /f.txt\n")
    assert same != arm_id and config_of(same)["architecture"] == host.arch  # the platform is part of the image

    with pytest.raises(BuildError) as caught:
        builder(context, f"FROM --platform={foreign} foreign:1\nCOPY f.txt /g.txt\nRUN true\n")
    assert f"RUN cannot run programs for {foreign}" in caught.value.message
    assert caught.value.location.line == 3 and "BUILDPLATFORM" in caught.value.hint


def test_local_image_of_another_platform_is_pulled_or_refused(builder, context: Path) -> None:
    # busybox is local for this machine's platform only; its registry is a closed loopback port
    builder(context, "FROM busybox\n", tags=("127.0.0.1:9/busybox:1",))
    with pytest.raises(BuildError) as caught:
        builder(context, "FROM --platform=linux/s390x 127.0.0.1:9/busybox:1\n")
    assert "cannot get the image 127.0.0.1:9/busybox:1 for linux/s390x" in caught.value.message
    assert caught.value.location.line == 1
    with pytest.raises(BuildError, match="invalid platform"):
        builder(context, "FROM --platform=linux busybox\n")


def test_stages_the_target_does_not_need_are_never_pulled(builder, context: Path) -> None:
    """An unused stage FROM a foreign-platform image of an unreachable registry costs nothing."""
    write(context, {"f.txt": "f\n"})
    dockerfile = ("FROM --platform=linux/s390x 127.0.0.1:9/tools:1 AS tools\nRUN make\n"
                  "FROM 127.0.0.1:9/other:2 AS other\nCOPY --from=127.0.0.1:9/files:3 /a /a\n"
                  "FROM busybox AS app\nCOPY f.txt /f.txt\n"
                  "FROM other\n")
    image_id, lines = builder(context, dockerfile, target="app")
    assert not any("pulling" in line or "127.0.0.1:9" in line for line in lines), lines
    assert (ImageStore().resolve(image_id).layer_dirs[-1] / "f.txt").read_text() == "f\n"
