"""Cloud Run function source: the entry point is ``main`` (CloudEvent, Pub/Sub trigger).

`deploy/gcp/deploy.sh` stages this file, requirements.txt and the zdlogs package into one directory
and deploys it; to deploy by hand, copy `src/zdlogs/` next to this file first.
"""

from zdlogs.cloud_function import main  # noqa: F401
