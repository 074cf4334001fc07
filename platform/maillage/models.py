"""Every model of Maillage, imported so that the metadata Alembic compares against is whole."""

from maillage.accounts.models import (
    ApiToken,
    ReferentGrant,
    TownMembership,
    User,
    user_expertise,
)
from maillage.attachments.models import Attachment
from maillage.database import Base
from maillage.emails.models import (
    Digest,
    EmailPreference,
    SentNotice,
    Subscription,
    subscription_themes,
    subscription_towns,
)
from maillage.events import Event
from maillage.follows.models import Follow
from maillage.help.models import (
    HelpAnswer,
    HelpOffer,
    HelpRequest,
    help_offer_themes,
    help_request_themes,
)
from maillage.initiatives.models import Comment, Initiative, Replication, initiative_themes
from maillage.mail.models import FailingAddress
from maillage.moderation.models import AuditEntry, Report
from maillage.networks.models import BoardSeat, LabelAward, Network, NetworkMembership
from maillage.notifications.models import Notification
from maillage.oidc.models import OidcIdentity
from maillage.replies.models import InboundMail
from maillage.themes.models import Theme
from maillage.towns.models import Department, PostalCode, Region, Town
from maillage.webhooks.models import Delivery, Webhook

__all__ = [
    "ApiToken", "Attachment", "AuditEntry", "Base", "BoardSeat", "Comment", "Delivery",
    "Department", "Digest",
    "EmailPreference", "Event", "FailingAddress", "Follow", "HelpAnswer", "HelpOffer",
    "HelpRequest", "InboundMail", "Initiative", "LabelAward", "Network", "NetworkMembership",
    "Notification", "OidcIdentity", "PostalCode", "ReferentGrant", "Region", "Replication",
    "Report", "SentNotice", "Subscription", "Theme", "Town", "TownMembership", "User", "Webhook",
    "help_offer_themes", "help_request_themes", "initiative_themes", "subscription_themes",
    "subscription_towns", "user_expertise",
]
