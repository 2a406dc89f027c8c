"""Shared fixtures and the hypothesis profiles (``ci``: ≥200 examples, ``dev``: quick)."""

import os

# scikit-learn's array-API conformance check (numpy namespace) only runs with this set, and
# scipy reads it once at import: set it before anything imports scipy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
