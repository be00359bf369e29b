"""Fixtures the operations tools' integration tests share with services/common's."""

# The messaging test bed: a sender and a receiver on fresh databases, the
# receiver's queues declared (classic unless a test asks for quorum).
from services.common.tests.integration.test_messaging import cluster  # noqa: F401
