"""Every feature's reactions and gauges, registered when this module is imported
(`create_app` does): the registries of `maillage.reactions` and `maillage.gauges` are whole
only then."""

from maillage.accounts import reactions as accounts
from maillage.emails import reactions as emails
from maillage.health import queries as health
from maillage.help import reactions as help_
from maillage.initiatives import reactions as initiatives
from maillage.mail import queries as mail
from maillage.webhooks import reactions as webhooks

FEATURES = (accounts, initiatives, help_, emails, webhooks)
# The modules declaring gauges of /metrics (`maillage.gauges.gauge`).
GAUGES = (health, mail)
