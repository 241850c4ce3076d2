"""Image tests run with a private registry configuration (see ``tests.fixtures.registry_config``)."""

from tests.fixtures.registry_config import private_registry_config  # noqa: F401
