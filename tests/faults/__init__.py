"""The fault suite: the cluster under load while its broker, database or
processes fail (``python -m tests.faults``; ``make faults``)."""

import warnings

# nameko's imports warn of eventlet's and pkg_resources' futures on every run.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")
