"""extends (placeholder)."""
def apply_extends(*args, **kwargs):
    return None
