"""The `still_works` fixture: after a hostile job, an ordinary job must still succeed."""
import pytest

from sandbox_helpers import run_solution


@pytest.fixture
def still_works():
    """After a hostile job, an ordinary job must still succeed."""
    yield
    result = run_solution("def main(x):\n    return x * 2\n", args=[21])
    assert result.kind == "ok" and result.value == 42, result
