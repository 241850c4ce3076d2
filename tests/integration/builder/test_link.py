"""COPY --link: a layer independent of its parent, reused when the parent is rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from composer.engine.images.store import ImageStore
from tests.integration.builder.conftest import write

pytestmark = [pytest.mark.root]

DOCKERFILE = """\
FROM busybox
ARG V=1
RUN echo $V > /v
COPY --link --chown=7:7 app.txt /app/
RUN cat /app/app.txt /v > /both
"""


def diff_ids(image_id: str) -> list[str]:
    return json.loads(ImageStore().blobs.read(image_id))["rootfs"]["diff_ids"]


def test_linked_copy_survives_a_parent_rebuild(builder, context: Path) -> None:
    write(context, {"app.txt": "app\n"})
    first, _ = builder(context, DOCKERFILE)
    second, lines = builder(context, DOCKERFILE, build_args={"V": "2"})
    copy_at = lines.index("[stage-0 3/4] COPY --link --chown=7:7 app.txt /app/")
    assert lines[copy_at + 1] == "CACHED"  # its parent (RUN echo $V) was rebuilt
    assert lines.count("CACHED") == 1
    assert diff_ids(first)[-2] == diff_ids(second)[-2] and diff_ids(first)[-3] != diff_ids(second)[-3]
    image = ImageStore().resolve(second)
    assert (image.layer_dirs[-1] / "both").read_text() == "app\n2\n"
    copied = image.layer_dirs[-2] / "app/app.txt"
    assert copied.read_text() == "app\n" and (copied.stat().st_uid, copied.stat().st_gid) == (7, 7)
    again, lines = builder(context, DOCKERFILE, build_args={"V": "2"})
    assert again == second and lines.count("CACHED") == 3


def test_linked_copy_chown_by_name_asks_for_numbers(builder, context: Path) -> None:
    from composer.errors import BuildError

    write(context, {"app.txt": "app\n"})
    with pytest.raises(BuildError) as caught:
        builder(context, "FROM busybox\nCOPY --link --chown=nobody app.txt /app/\n")
    assert caught.value.location.line == 2 and "numeric ids" in caught.value.hint
