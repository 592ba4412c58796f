"""The commands behind `mite`: `commands.py` parses argv once (natively) and dispatches."""
