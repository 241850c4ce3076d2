"""The compose spec layer: YAML source -> interpolate -> include/extends -> merge -> schema ->
canonical -> normalize -> the printed model and the typed Project (see loader.load_project)."""
