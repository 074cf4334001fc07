"""Pages of the legal package: the accessibility statement, the legal notice, the privacy
policy. Public, and the same for everyone but their language."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template

from maillage.legal.queries import publisher, retention

blueprint = Blueprint("legal", __name__)

# The day the accessibility statement was last checked against the project's tests: RGAA
# asks for it, and a statement is redone when what it says changes.
STATEMENT_DATE = date(2026, 12, 4)


@blueprint.get("/accessibility")
def accessibility() -> str:
    return render_template("legal/accessibility.html", stated_on=STATEMENT_DATE,
                           publisher=publisher(current_app.config))


@blueprint.get("/legal-notice")
def notice() -> str:
    return render_template("legal/notice.html", publisher=publisher(current_app.config))


@blueprint.get("/privacy")
def privacy() -> str:
    return render_template("legal/privacy.html", publisher=publisher(current_app.config),
                           kept=retention(current_app.config))
