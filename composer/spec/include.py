"""include (placeholder)."""
def apply_include(*args, **kwargs):
    return None
