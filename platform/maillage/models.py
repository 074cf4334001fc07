"""Every model of Maillage, imported so that the metadata Alembic compares against is whole."""

from maillage.accounts.models import ApiToken, TownMembership, User, user_expertise
from maillage.database import Base
from maillage.events import Event
from maillage.follows.models import Follow
from maillage.initiatives.models import Comment, Initiative, Replication, initiative_themes
from maillage.networks.models import BoardSeat, LabelAward, Network, NetworkMembership
from maillage.notifications.models import Notification
from maillage.themes.models import Theme
from maillage.towns.models import Department, PostalCode, Region, Town

__all__ = [
    "ApiToken", "Base", "BoardSeat", "Comment", "Department", "Event", "Follow", "Initiative",
    "LabelAward", "Network", "NetworkMembership", "Notification", "PostalCode", "Region",
    "Replication", "Theme", "Town", "TownMembership", "User", "initiative_themes",
    "user_expertise",
]
