"""The pages a public site owes, linked from every page's foot: the accessibility statement
(RGAA 4.1), the legal notice, and what is done with personal data."""
