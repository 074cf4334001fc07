"""Commands of accounts: create users, make referents of them, and personal API tokens."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from maillage.accounts import operations, queries
from maillage.accounts.models import Role, Scope, User, VerificationSource
from maillage.console import explain
from maillage.database import transaction
from maillage.errors import DomainError


@click.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("email")
@click.option("--name", help="Display name (defaults to the address's local part).")
@click.option("--password", prompt=True, prompt_required=False, hide_input=True,
              confirmation_prompt=True, help="Give it, or give --password alone to be asked.")
@click.option("--town", metavar="INSEE", help="A town the user serves.")
@click.option("--role", type=click.Choice([r.value for r in Role]), help="Their role there.")
@click.option("--verified", is_flag=True, help="Verify the membership of --town at once.")
@click.option("--expertise", metavar="SLUG,SLUG", help="Themes a referent can help on.")
@click.option("--admin", is_flag=True, help="A network admin.")
@click.option("--moderator", is_flag=True, help="A moderator.")
@with_appcontext
def create_user(email: str, name: str | None, password: str | None, town: str | None,
                role: str | None, verified: bool, expertise: str | None, admin: bool,
                moderator: bool) -> None:
    """Create the account EMAIL, optionally a member of a town."""
    if (town is None) != (role is None):
        raise click.UsageError("--town and --role go together.")
    if verified and town is None:
        raise click.UsageError("--verified needs --town.")
    try:
        with transaction():
            user = operations.create_user(email, name or email.split("@")[0], password,
                                          is_admin=admin, is_moderator=moderator,
                                          confirmed=True)
            if town and role:
                membership = operations.join_town(user, town, Role(role))
                if verified:
                    operations.verify_membership(membership, None, VerificationSource.ADMIN)
            if expertise:
                operations.set_expertise(user, [s.strip() for s in expertise.split(",")])
    except DomainError as error:
        raise click.ClickException(explain(error)) from None
    click.echo(f"Created {user.email} (id {user.id}).")


@users.command("grant-referent")
@click.argument("email")
@click.option("--by", "admin_email", metavar="EMAIL",
              help="The admin who decided, recorded with the grant (default: nobody named).")
@with_appcontext
def grant_referent(email: str, admin_email: str | None) -> None:
    """Make EMAIL a referent who is no verified member of a town (an expert of a partner
    body, say): they may declare expertise and offer help in their own name."""
    try:
        with transaction():
            admin = _user(admin_email) if admin_email else None
            operations.grant_referent(_user(email), admin)
    except DomainError as error:
        raise click.ClickException(explain(error)) from None
    click.echo(f"{email} may now be a referent.")


@users.command("revoke-referent")
@click.argument("email")
@with_appcontext
def revoke_referent(email: str) -> None:
    """Withdraw the referent grant of EMAIL. Their declared expertise stays but no longer lets
    them offer help alone, unless a town verifies them."""
    try:
        with transaction():
            operations.revoke_referent(_user(email))
    except DomainError as error:
        raise click.ClickException(explain(error)) from None
    click.echo(f"{email} is no longer a referent by grant.")


def _user(email: str) -> User:
    user = queries.user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account uses the address {email}.")
    return user


@click.group()
def tokens() -> None:
    """Manage personal API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--scope", type=click.Choice([s.value for s in Scope]), required=True,
              help="read: GET only; write: everything the user may do.")
@click.option("--name", default="", help="What the token is for.")
@with_appcontext
def create_token(email: str, scope: str, name: str) -> None:
    """Print a new personal API token of EMAIL; it is shown once and stored hashed."""
    with transaction():
        _token, secret = operations.create_token(_user(email), Scope(scope), name)
    click.echo(secret)


@tokens.command("list")
@click.argument("email")
@with_appcontext
def list_tokens(email: str) -> None:
    """List the live tokens of EMAIL: id, scope, name, when created and last used."""
    with transaction():
        for token in queries.live_tokens(_user(email).id):
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            click.echo(f"{token.id}\t{token.scope.value}\t{token.name or '-'}\t"
                       f"created {token.created_at:%Y-%m-%d}\tlast used {used}")


@tokens.command("revoke")
@click.argument("email")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_token(email: str, token_id: int) -> None:
    """Revoke token TOKEN_ID of EMAIL; the sockets it opened are closed."""
    try:
        with transaction():
            operations.revoke_token(_user(email), token_id)
    except DomainError as error:
        raise click.ClickException(explain(error)) from None
    click.echo(f"Revoked token {token_id} of {email}.")

