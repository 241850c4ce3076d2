"""Reference parsing and normalization, as docker's distribution/reference does it."""

import pytest

from composer.engine.images.reference import looks_like_id, parse_reference
from composer.errors import ImageError

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("text, expected, familiar", [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("library/busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/user/app", "docker.io/user/app:latest", "user/app:latest"),
    ("user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
    ("localhost:5000/app:dev", "localhost:5000/app:dev", "localhost:5000/app:dev"),
    ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
    ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c:latest", "127.0.0.1:5000/a/b/c:latest"),
    (f"ghcr.io/org/app@{DIGEST}", f"ghcr.io/org/app@{DIGEST}", f"ghcr.io/org/app@{DIGEST}"),
    (f"busybox:1@{DIGEST}", f"docker.io/library/busybox:1@{DIGEST}", f"busybox:1@{DIGEST}"),
])
def test_normalization(text: str, expected: str, familiar: str) -> None:
    reference = parse_reference(text)
    assert str(reference) == expected
    assert reference.familiar() == familiar


@pytest.mark.parametrize("text", ["", "Busybox", "busybox:", "a//b", "busybox@sha256:xyz",
                                  "-app", "app:-tag", "a" * 64, " busybox"])
def test_invalid_references_are_refused(text: str) -> None:
    with pytest.raises(ImageError, match="invalid reference format"):
        parse_reference(text)


def test_ids() -> None:
    assert looks_like_id("abc123")
    assert looks_like_id("sha256:" + "0" * 64)
    assert not looks_like_id("busybox")
