"""A serving process: the app factory uvicorn's workers call, GC tuning, graceful shutdown."""
