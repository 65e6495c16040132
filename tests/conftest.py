"""Test-wide settings: property tests are derandomized so every run checks the same examples."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "kbook", derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("kbook")
