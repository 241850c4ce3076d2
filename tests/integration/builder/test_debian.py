"""Builds on the Debian fixture image: users by name, merged-/usr symlinks, a bigger root."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from composer.engine.images.store import ImageStore
from tests.integration.builder.conftest import layer_blob, write

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture
def debian(state_root: Path, debian_tarball: Path):
    return ImageStore().import_rootfs(debian_tarball, "debian:bookworm", ['CMD ["bash"]'])


def test_debian_users_and_merged_usr(builder, debian, context: Path) -> None:
    write(context, {"tool.sh": "#!/bin/sh\necho tool\n", "conf/app.conf": "x=1\n"})
    dockerfile = """\
FROM debian:bookworm
RUN useradd --create-home --uid 1234 app
COPY --chown=app:app conf/ /home/app/conf/
COPY --chmod=755 tool.sh /bin/tool
USER app
WORKDIR /home/app
RUN id -un > whoami && /bin/tool > tool.out
"""
    image_id, _ = builder(context, dockerfile, tags=("deb-app:1",))
    image = ImageStore().resolve(image_id)
    diff_ids = __import__("json").loads(ImageStore().blobs.read(image_id))["rootfs"]["diff_ids"]
    with tarfile.open(layer_blob(diff_ids[2])) as tar:
        conf = tar.getmember("home/app/conf/app.conf")
        assert (conf.uid, conf.gid) == (1234, 1234)
        home = tar.getmember("home/app")  # kept as useradd made it, not replaced
        assert home.uid == 1234
    with tarfile.open(layer_blob(diff_ids[3])) as tar:
        assert "usr/bin/tool" in tar.getnames() and "bin" not in tar.getnames()
    top = image.layer_dirs[-1]
    assert (top / "home/app/whoami").read_text() == "app\n"
    assert (top / "home/app/tool.out").read_text() == "tool\n"
