"""The scheduler's jobs, for `rq cron workers.schedule` (the Procfile's `scheduler`)."""

from rq import cron

from workers.escalation import escalate_help_requests
from workers.sweeper import sweep_outbox

cron.register(sweep_outbox, "events", interval=60)
cron.register(escalate_help_requests, "events", interval=600)
