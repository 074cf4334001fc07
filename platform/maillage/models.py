"""Every model of Maillage, imported so that the metadata Alembic compares against is whole."""

from maillage.accounts.models import ApiToken, TownMembership, User, user_expertise
from maillage.database import Base
from maillage.digests.models import (
    Digest,
    EmailPreference,
    SentNotice,
    Subscription,
    subscription_themes,
    subscription_towns,
)
from maillage.events import Event
from maillage.follows.models import Follow
from maillage.initiatives.models import Comment, Initiative, Replication, initiative_themes
from maillage.mail.models import FailingAddress
from maillage.networks.models import LabelAward, Network, NetworkMembership
from maillage.notifications.models import Notification
from maillage.themes.models import Theme
from maillage.towns.models import Department, PostalCode, Region, Town

__all__ = [
    "ApiToken", "Base", "Comment", "Department", "Digest", "EmailPreference", "Event",
    "FailingAddress", "Follow", "Initiative", "LabelAward", "Network", "NetworkMembership",
    "Notification", "PostalCode", "Region", "Replication", "SentNotice", "Subscription", "Theme",
    "Town", "TownMembership", "User", "initiative_themes", "subscription_themes",
    "subscription_towns", "user_expertise",
]
