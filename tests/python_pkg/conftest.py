"""pytest setup for the Python package's tests: `lucent` must be importable (installed with
`python3 -m pip install --no-build-isolation ./python`), and LUCENT_BIN names the CLI they
compare against."""
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def lucent_bin():
    path = os.environ.get("LUCENT_BIN", os.path.join(ROOT, "build", "lucent"))
    assert os.path.exists(path), f"no lucent CLI at {path} (set LUCENT_BIN)"
    return path
