"""Accounts (maillage/accounts): sign-up and sign-in, personal tokens, password reset,
the verification of members, and the holes of issue 17."""
