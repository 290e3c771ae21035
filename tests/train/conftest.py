"""Fixtures for trainer tests."""

import pytest

from tests.train.helpers import write_recipe


@pytest.fixture
def recipe_in(tmp_path):
    return lambda **sections: write_recipe(tmp_path, **sections)
