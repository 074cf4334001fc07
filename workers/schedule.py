"""The scheduler's jobs, for `rq cron workers.schedule` (the Procfile's `scheduler`).

rq's cron reads its expressions in UTC. Digests leave at 07:00 in Paris, which is 05:00 UTC in
summer and 06:00 UTC in winter: they are scheduled at both, and the job sends only once the
07:00 of their period has passed, and only what was not sent (digests are recorded per
recipient and period), so the other run of the day is a no-op. The digest sweep sends those a
run claimed and did not send before it died, once their lease has run out.
"""

from rq import cron

from workers.escalation import follow_through_help
from workers.mail import RUN_TIMEOUT, send_due_digests, sweep_digests
from workers.sweeper import (
    prune_notifications,
    sweep_files,
    sweep_mail,
    sweep_outbox,
    sweep_webhooks,
)

cron.register(sweep_outbox, "events", interval=60)
cron.register(sweep_mail, "mail", interval=60)
cron.register(sweep_webhooks, "webhooks", interval=60)
cron.register(sweep_files, "events", interval=3600)
# Hourly, so each run deletes an hour's worth (at ten million a month, some 14,000 rows); the
# first run on an old table may take longer, in short transactions.
cron.register(prune_notifications, "events", interval=3600, job_timeout=3600)
cron.register(follow_through_help, "events", interval=600)
cron.register(sweep_digests, "mail", interval=300)
cron.register(send_due_digests, "mail", args=("daily",), cron="0 5,6 * * *",
              name="daily-digests", job_timeout=RUN_TIMEOUT)
cron.register(send_due_digests, "mail", args=("weekly",), cron="0 5,6 * * 1",
              name="weekly-digests", job_timeout=RUN_TIMEOUT)
