from tests.ceres.fixtures import ceres_fixture, ceres_server_fixture  # noqa: F401
