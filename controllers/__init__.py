from . import webhook
from . import metrics
from . import queue_job_liveness
