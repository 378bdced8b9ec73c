"""A reproducible benchmark for explaining video anomaly detectors.

Data flows one way: ``data`` -> ``model`` -> ``explain`` -> ``metrics`` -> ``evaluate`` -> leaderboard.
"""

__version__ = "0.1.0"
