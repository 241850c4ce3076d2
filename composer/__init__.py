"""composer: a Compose-style multi-container orchestrator with its own container runtime."""

__version__ = "0.1.0"
