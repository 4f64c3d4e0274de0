import os
from pathlib import Path

from hypothesis import HealthCheck, settings

# `ci`: reproducible and without deadlines (the first call of a jitted kernel compiles).
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=50,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# `dev`: random exploration, more examples.
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Registered activations: a cache of the test suite's own (no user registration leaks in; kernels stay compiled).
os.environ["MEANFIELD_CACHE"] = str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "meanfield")
