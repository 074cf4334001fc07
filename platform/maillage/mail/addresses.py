"""What an address is to Maillage: one spelling per mailbox.

`Maire@Ville.fr` and `maire@ville.fr` reach the same person, so they must be one account,
one subscriber, one failing address, one count of confirmation mails. Addresses are stored
as `normalise` returns them and every comparison goes through it: the whole address is
lower-cased, the local part too, since no town hall's server tells two mailboxes apart by
case and a plain unique index then holds.
"""

from __future__ import annotations


def normalise(address: str) -> str:
    """Return `address` as it is stored and compared: trimmed and lower-cased."""
    return address.strip().lower()
