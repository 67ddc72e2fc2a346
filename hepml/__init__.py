"""hepml: a command-line experiment runner for machine learning in high-energy physics."""

__version__ = "0.1.0"
