"""Mail: messages built in text and HTML, their transport (SMTP or .eml files), signed links."""
