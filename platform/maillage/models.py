"""Every model of Maillage, imported so that the metadata Alembic compares against is whole."""

from maillage.accounts.models import ApiToken, TownMembership, User, user_expertise
from maillage.database import Base
from maillage.events import Event
from maillage.networks.models import LabelAward, Network, NetworkMembership
from maillage.themes.models import Theme
from maillage.towns.models import Department, PostalCode, Region, Town

__all__ = [
    "ApiToken", "Base", "Department", "Event", "LabelAward", "Network", "NetworkMembership",
    "PostalCode", "Region", "Theme", "Town", "TownMembership", "User", "user_expertise",
]
