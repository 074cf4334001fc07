"""Sign-in through OpenID Connect (maillage/oidc), against the provider beside these tests."""
