"""Mail (maillage/mail): immediate notices through a real SMTP server, the SMTP session,
.eml files."""
