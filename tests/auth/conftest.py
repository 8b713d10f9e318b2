import pytest

from tests.factories import make_rater


@pytest.fixture
def rater(db):
    return make_rater()
