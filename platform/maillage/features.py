"""Every feature's reactions, registered when this module is imported (`create_app` does):
the registry of `maillage.reactions` is whole only then."""

from maillage.accounts import reactions as accounts
from maillage.emails import reactions as emails
from maillage.help import reactions as help_
from maillage.initiatives import reactions as initiatives

FEATURES = (accounts, initiatives, help_, emails)
