"""The running server: the app factory, ASGI middleware, error handlers, serving with uvicorn,
background jobs and runtime tuning. Business rules live in the areas, never here."""
