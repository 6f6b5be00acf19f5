"""sahel-eval: reproducible evaluation of health-financing programmes in Mali."""

__version__ = "0.1.0"
