"""Cleaning stage: interim tables -> canonical tables and analysis panels (DESIGN §4-5)."""
