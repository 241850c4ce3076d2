"""Image tests run with a private registry configuration (see ``hostconfig``)."""

from tests.integration.images.hostconfig import private_registry_config  # noqa: F401
