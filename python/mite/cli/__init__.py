"""The commands behind `mite`; argument parsing itself is native (`mite._native.main`)."""
