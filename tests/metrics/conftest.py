# The agents and the CERES catalogue of the back-office's tests.
from tests.backoffice.conftest import ceres, pdl_agent, regions  # noqa: F401
