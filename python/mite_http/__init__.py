"""HTTP support for mite journeys (the session arrives with the native HTTP engine)."""
