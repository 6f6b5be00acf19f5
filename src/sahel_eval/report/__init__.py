"""Report machinery: formatting per language, translations, provenance, HTML rendering.

Reports read results files and render them; they never call an estimator, so every
number shown is one a reviewer can open (DESIGN §9, §11).
"""
