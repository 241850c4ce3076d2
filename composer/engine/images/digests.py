"""Image references pinned to the digest their registry serves now (``config
--resolve-image-digests``, compose-go's ``Project.ResolveImages``)."""

from __future__ import annotations

from typing import Callable

from composer.errors import ComposerError, ImageError


def digest_pinner() -> Callable[[str], str]:
    """A function ``image -> pinned image`` that asks each registry once per reference."""
    known: dict[str, str] = {}

    def pin(image: str) -> str:
        if image not in known:
            known[image] = pinned(image)
        return known[image]

    return pin


def pinned(image: str) -> str:
    """``busybox`` → ``docker.io/library/busybox:latest@sha256:…`` (the digest of the manifest, or
    of the index of a multi-platform image, the tag names now); a reference that has a digest
    keeps it and loses its tag, as docker's ParseDockerRef does."""
    from composer.engine.images.mediatypes import MANIFEST_ACCEPT
    from composer.engine.images.reference import parse_reference
    from composer.engine.images.registry import RegistryClient

    ref = parse_reference(image)
    if ref.digest:
        return f"{ref.repository}@{ref.digest}"
    try:
        with RegistryClient(ref.domain) as client:
            _, _, digest = client.get_manifest(ref.path, ref.tag or "latest", MANIFEST_ACCEPT)
    except ComposerError as error:
        raise ImageError(f"failed to resolve digest for {ref}: {error.message}",
                         hint="check that the registry answers and has that tag") from None
    return f"{ref}@{digest}"
