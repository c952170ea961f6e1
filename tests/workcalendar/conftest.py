import pytest

from workcalendar.selectors import clear_cache


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Each test's rolled-back transaction must not leave a schedule in the process cache."""
    clear_cache()
    yield
    clear_cache()
