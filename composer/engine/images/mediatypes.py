"""The OCI and Docker media types of manifests, indexes, configs and layers (no imports: hot paths use it)."""

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"  # (+ ".gzip": compressed)

# what a pull accepts for a tag, in order of preference (lists first: the platform is picked from them)
MANIFEST_ACCEPT = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
MANIFEST_LISTS = (OCI_INDEX, DOCKER_LIST)


def docker_layer_type(media_type: str) -> str:
    """A layer's media type in a Docker schema 2 manifest (what docker's commit makes): the OCI
    tar and gzip types become Docker's; Docker's (and zstd, which Docker has none for) stay."""
    if media_type == OCI_LAYER:
        return DOCKER_LAYER
    return DOCKER_LAYER + ".gzip" if media_type == OCI_LAYER + "+gzip" else media_type
