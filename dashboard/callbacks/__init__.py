"""Callbacks, attached explicitly with ``register(app, deps)``."""
