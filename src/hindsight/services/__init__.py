"""Use cases. Each takes a session and keyword arguments, may flush, never commits."""
