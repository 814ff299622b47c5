import pytest

from tests.habilitations.factories import build_world


@pytest.fixture
def world(db):
    return build_world()
