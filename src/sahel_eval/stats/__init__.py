"""Variance estimators and linear algebra shared by the estimators (did/) and the survey
tables (clean/): one place, below both, so the cleaning stage imports no estimator."""
