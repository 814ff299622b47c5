"""CERES' pages through their flattened chain of templates (dsfr_layout.kept_extends) are the
same bytes as through Django's block context: checked in a CERES process
(tests/ceres/pages_flat_check.py), every page, signed in and not, names with <, & and quotes."""

import pytest

from tests.ceres.ceres_process import run_check

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures clear the cache (in the database)


def test_ceres_pages_are_the_same_bytes_flattened(tmp_path):
    assert run_check("pages_flat_check.py", tmp_path, "_ceres_pages") == ["compared", "44"]
