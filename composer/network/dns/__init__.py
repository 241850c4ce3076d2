"""The embedded DNS server (``server``), its start/stop (``control``) and its lookups (``records``)."""
