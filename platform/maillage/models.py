"""Every model of Maillage, imported so that the metadata Alembic compares against is whole."""

from maillage.accounts.models import ApiToken, TownMembership, User, user_expertise
from maillage.database import Base
from maillage.events import Event
from maillage.follows.models import Follow
from maillage.initiatives.models import Comment, Initiative, Replication, initiative_themes
from maillage.moderation.models import AuditEntry, Report
from maillage.networks.models import LabelAward, Network, NetworkMembership
from maillage.notifications.models import Notification
from maillage.oidc.models import OidcIdentity
from maillage.themes.models import Theme
from maillage.towns.models import Department, PostalCode, Region, Town

__all__ = [
    "ApiToken", "AuditEntry", "Base", "Comment", "Department", "Event", "Follow", "Initiative",
    "LabelAward", "Network", "NetworkMembership", "Notification", "OidcIdentity", "PostalCode",
    "Region", "Replication", "Report", "Theme", "Town", "TownMembership", "User",
    "initiative_themes", "user_expertise",
]
