"""Flask routes the pages link to (exports, reports), each module with its
``register(app, deps, ...)``; callbacks live in :mod:`dashboard.callbacks`."""
