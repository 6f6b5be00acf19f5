"""Words and numbers as readers see them: the fr/en catalogue and Babel formatting.

Below figures and report in the dependency order (figures draw translated labels,
reports write translated sentences), so neither imports the other for them.
"""
