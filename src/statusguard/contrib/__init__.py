"""Framework integrations. Each module imports its framework lazily; the package itself imports nothing."""
