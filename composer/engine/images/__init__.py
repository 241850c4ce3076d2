"""The image store, registries and archives (see store.py for the layout)."""
