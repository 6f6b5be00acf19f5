"""Figures drawn from the tidy results tables, once per language (DESIGN §9)."""
