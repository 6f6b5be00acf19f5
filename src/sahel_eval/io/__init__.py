"""Readers, one module per raw format; each returns a typed DataFrame."""
