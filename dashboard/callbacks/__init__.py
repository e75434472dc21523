"""Page callbacks, one module per page; each has ``register(app, ctx)``."""
