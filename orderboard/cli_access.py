"""The access commands of ``orderboard``: ``user ...``, ``token ...`` and ``audit``, and the
demo's users (``orderboard demo --with-users``). Registered on ``orderboard.cli.app``.

Each change calls one function of ``datasource.account_changes``, which writes the
audit entry; the actor is the operating-system user running the command
(``cli:<name>``). Passwords are never options (they would stay in the shell's history
and the process list): they are prompted for twice, hidden, or read from one line of
stdin with ``--password-stdin``. A display token's secret is printed once, in its wall
link. Option values are checked before the store is opened, so a bad value changes
nothing.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from datasource.audit import ACTIONS
from datasource.masking import masked_url
from datasource.schema import ROLES
from orderboard.cli import (
    EXIT_REFUSED,
    EXIT_STATUS,
    EXIT_USAGE,
    ConfigOption,
    DbOption,
    OneLineErrors,
    app,
    checked,
    command,
    existing_store,
    fail,
    opened_store,
    read_store,
    settings_for,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from datasource.scope import Scope
    from datasource.settings import Settings

TIME_FMT = "%Y-%m-%d %H:%M"
TABLE_ROWS = 200  # audit entries the table shows unless --limit says otherwise

user_app = typer.Typer(cls=OneLineErrors, help="Users: add, list, disable or enable, passwords, roles, data scopes.",
                       epilog=EXIT_STATUS, rich_markup_mode=None, no_args_is_help=True)
token_app = typer.Typer(cls=OneLineErrors, help="Display tokens that sign a wall TV in, read-only.",
                        epilog=EXIT_STATUS, rich_markup_mode=None, no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

RoleOption = Annotated[str, typer.Option("--role", metavar="ROLE",
                                         help="viewer (sees), manager (also exports and acknowledges) or admin.")]
SCOPE_HELP = ("Orders {who} may see, e.g. --scope line=\"Line A\"; DIMENSION is line, customer, channel, "
              "product or owner; repeat it (any value of one dimension, every dimension named).")
ScopeOption = Annotated[list[str] | None, typer.Option(
    "--scope", metavar="DIMENSION=VALUE", help=SCOPE_HELP.format(who="the user"))]
TokenScopeOption = Annotated[list[str] | None, typer.Option(
    "--scope", metavar="DIMENSION=VALUE", help=SCOPE_HELP.format(who="the TV"))]
PasswordStdinOption = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of stdin instead of prompting.")]
NameArgument = Annotated[str, typer.Argument(help="User name.", metavar="NAME")]


def cli_actor() -> str:
    """Who the audit log names for a change made on the command line."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment nor the password database
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def checked_role(option: str, role: str) -> str:
    if role not in ROLES:
        fail(f"{option} {role}: no such role (one of {', '.join(ROLES)})", EXIT_USAGE)
    return role


def checked_scope(terms: list[str] | None) -> Scope:
    from datasource.scope import ScopeError, parse_scope_terms

    try:
        return parse_scope_terms(terms or [])
    except ScopeError as exc:
        fail(str(exc), EXIT_USAGE)


def read_password(name: str, from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a hidden prompt."""
    from datasource.accounts import AccountError, check_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: stdin has no password line", EXIT_USAGE)
    else:
        password = typer.prompt(f"password for {name.strip()}", hide_input=True,
                                confirmation_prompt="the same password again")
    try:
        check_password(password)
    except AccountError as exc:
        fail(str(exc), EXIT_USAGE)
    return password


@contextmanager
def changing_store(settings: Settings) -> Iterator[Engine]:
    """The store to change (brought up to date, never created), disposed of after."""
    engine = opened_store(settings, create=False)
    try:
        yield engine
    finally:
        engine.dispose()


def account_change(engine: Engine, change, *args: Any, **options: Any):
    """``change(engine, actor, *args, now, **options)`` of ``datasource.account_changes``;
    a refusal (no such user, the last admin...) is one line."""
    from datasource.accounts import AccountError

    try:
        return change(engine, cli_actor(), *args, now_utc(), **options)
    except AccountError as exc:
        fail(str(exc), EXIT_REFUSED)


def scope_notes(engine: Engine, scope: Scope) -> None:
    """A note for each scope value that no order has (a typo shows at once)."""
    from datasource.account_changes import unmatched_scope_values

    for unmatched in unmatched_scope_values(engine, scope):
        typer.echo(f"note: {unmatched.describe()}")


def account_line(account) -> str:
    sees = "every order" if account.scope.is_everything else account.scope.describe()
    disabled = ", disabled" if account.disabled else ""
    return f"{account.name}: {account.role}{disabled}; sees {sees}"


def is_loopback_url(url: str) -> bool:
    from urllib.parse import urlsplit

    from dashboard.auth import is_loopback

    return is_loopback(urlsplit(url).hostname or "")


def print_table(columns: list[str], rows: list[list[str]]) -> None:
    """A table on stdout (cells are plain text: a "[" in a name is not markup)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(*columns, box=box.SIMPLE_HEAD, highlight=False)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    Console(highlight=False, width=None if sys.stdout.isatty() else 160).print(table)


def local_time(value, tz: str) -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).tz_convert(tz).strftime(TIME_FMT)


# -- orderboard user ------------------------------------------------------------------

@user_app.command("add", epilog=EXIT_STATUS)
def user_add(
    name: NameArgument,
    role: RoleOption,
    scope: ScopeOption = None,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Add a user (the password is prompted for twice, or read with --password-stdin)."""
    from datasource import account_changes

    settings = settings_for(db, config)
    checked_role("--role", role)
    wanted = checked_scope(scope)
    if role == "admin" and scope:
        fail("an admin sees every order: give --scope to viewers and managers only", EXIT_USAGE)
    password = read_password(name, password_stdin)
    with changing_store(settings) as engine:
        account = account_change(engine, account_changes.add_user, name, role, password, wanted)
        typer.echo(f"added {account_line(account)}")
        scope_notes(engine, wanted)
    if role != "admin" and not scope:
        typer.echo(f"note: {account.name} sees no orders until given a scope "
                   f"(orderboard user scope {account.name} --scope DIMENSION=VALUE)")


@user_app.command("list", epilog=EXIT_STATUS)
def user_list(
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """List the users: role, the orders they see, disabled or not, last login."""
    import json

    from datasource.accounts import list_users

    settings = settings_for(db, config)
    users = read_store(settings, list_users)
    tz = settings.timezone
    if json_:
        typer.echo(json.dumps([{
            "name": u.name, "role": u.role,
            "scope": "every order" if u.scope.is_everything else u.scope.describe(),
            "disabled": u.disabled,
            "last_login": u.last_login_at.isoformat() if u.last_login_at else None,
        } for u in users], ensure_ascii=False, indent=2))
        return
    if not users:
        typer.echo("no users yet: orderboard user add NAME --role admin creates the first admin")
        return
    print_table(["name", "role", "sees", "disabled", f"last login ({tz})"], [
        [u.name, u.role, "every order" if u.scope.is_everything else u.scope.describe(),
         "yes" if u.disabled else "", local_time(u.last_login_at, tz) or "never"] for u in users])


def _set_disabled(name: str, disabled: bool, db: str | None, config: Path | None) -> None:
    from datasource import account_changes

    with changing_store(settings_for(db, config)) as engine:
        account = account_change(engine, account_changes.set_disabled, name, disabled)
    ended = " (every session of it ended)" if disabled else ""
    typer.echo(f"{'disabled' if disabled else 'enabled'} {account.name}{ended}")


@user_app.command("disable", epilog=EXIT_STATUS)
def user_disable(name: NameArgument, db: DbOption = None, config: ConfigOption = None) -> None:
    """Disable a user: no login, and every session of it ends."""
    _set_disabled(name, True, db, config)


@user_app.command("enable", epilog=EXIT_STATUS)
def user_enable(name: NameArgument, db: DbOption = None, config: ConfigOption = None) -> None:
    """Enable a disabled user again."""
    _set_disabled(name, False, db, config)


@user_app.command("passwd", epilog=EXIT_STATUS)
def user_passwd(
    name: NameArgument,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Set a user's password (every session of the user ends)."""
    from datasource import account_changes
    from datasource.accounts import user

    with changing_store(settings_for(db, config)) as engine:
        if user(engine, name) is None:  # before asking for a password
            fail(f"no user {name.strip()!r}")
        password = read_password(name, password_stdin)
        account_change(engine, account_changes.set_password, name, password)
    typer.echo(f"new password for {name.strip()} (every session of it ended)")


@user_app.command("role", epilog=EXIT_STATUS)
def user_role(
    name: NameArgument,
    role: Annotated[str, typer.Argument(metavar="ROLE", help="viewer, manager or admin.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Change a user's role."""
    from datasource import account_changes

    checked_role("role", role)
    with changing_store(settings_for(db, config)) as engine:
        account = account_change(engine, account_changes.set_role, name, role)
    typer.echo(account_line(account))


@user_app.command("scope", epilog=EXIT_STATUS)
def user_scope(
    name: NameArgument,
    scope: ScopeOption = None,
    none: Annotated[bool, typer.Option("--none", help="The user sees no orders.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Replace the orders a user may see (--scope, repeated; or --none)."""
    from datasource import account_changes

    if bool(scope) == none:
        fail("give --scope DIMENSION=VALUE (repeat it for several) or --none", EXIT_USAGE)
    wanted = checked_scope(scope)
    with changing_store(settings_for(db, config)) as engine:
        account = account_change(engine, account_changes.set_scope, name, wanted)
        typer.echo(account_line(account))
        scope_notes(engine, wanted)


# -- orderboard token -----------------------------------------------------------------

@token_app.command("create", epilog=EXIT_STATUS)
def token_create(
    wall: Annotated[str, typer.Option(
        "--wall", metavar="URL",
        help="The wall the TV shows: its URL (/wall?line=Line+A&views=main,kpi, or with http://host) or query.")],
    scope: TokenScopeOption = None,
    all_: Annotated[bool, typer.Option("--all", help="The token sees every order.")] = False,
    label: Annotated[str, typer.Option("--label", help="Which TV, e.g. 'hall TV 1'.")] = "",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Create a display token for one wall and print its link, once. Its scope: --scope,
    --all, or else the wall's own line and channel filters."""
    from dashboard.display_tokens import NoScopeGiven, WallLinkError, token_link, token_scope, wall_setting
    from datasource import account_changes
    from datasource.account_changes import unmatched_scope_values

    settings = settings_for(db, config)
    if all_ and scope:
        fail("give --scope or --all, not both", EXIT_USAGE)
    given = checked_scope(scope) if scope else None
    try:
        query = wall_setting(wall)
    except WallLinkError as exc:
        fail(f"--wall: {exc}", EXIT_USAGE)
    try:
        token_scope_ = token_scope(query, given, all_)
    except NoScopeGiven:
        fail(f"--wall {wall} names no line or channel: say which orders the TV may show with "
             "--scope DIMENSION=VALUE (e.g. --scope line=\"Line A\") or --all for every order", EXIT_USAGE)
    with changing_store(settings) as engine:
        token, secret = account_change(engine, account_changes.create_token, query, token_scope_, label=label)
        unmatched = unmatched_scope_values(engine, token.scope) if given is not None else []
    sees = "every order" if token.scope.is_everything else token.scope.describe()
    typer.echo(f"display token {token.id}{f' ({token.label})' if token.label else ''}: "
               f"/wall?{token.wall_query}, sees {sees}")
    typer.echo("the wall link with the token, shown this once (open it on the TV; "
               f"orderboard token revoke {token.id} ends it):")
    typer.echo(token_link(settings.public_url, token.wall_query, secret))
    for value in unmatched:
        typer.echo(f"note: {value.describe()}")
    if is_loopback_url(settings.public_url):
        typer.echo(f"note: the link starts with {settings.public_url}, this computer; set ORDERBOARD_PUBLIC_URL "
                   "to the address the TV opens (or change the start of the link by hand)")


@token_app.command("list", epilog=EXIT_STATUS)
def token_list(
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """List the display tokens (never their secrets)."""
    import json

    from datasource.accounts import list_tokens

    settings = settings_for(db, config)
    tokens = read_store(settings, list_tokens)
    tz = settings.timezone

    def sees(t) -> str:
        return "every order" if t.scope.is_everything else t.scope.describe()

    if json_:
        def iso(value):
            return value.isoformat() if value else None

        typer.echo(json.dumps([{
            "id": t.id, "label": t.label, "wall": f"/wall?{t.wall_query}", "scope": sees(t),
            "created_by": t.created_by, "created_at": iso(t.created_at), "last_used": iso(t.last_used_at),
            "revoked": iso(t.revoked_at),
        } for t in tokens], ensure_ascii=False, indent=2))
        return
    if not tokens:
        typer.echo("no display tokens yet: orderboard token create --wall URL makes one")
        return
    print_table(["id", "label", "wall", "sees", "created by", f"created ({tz})", "last used", "revoked"], [
        [str(t.id), t.label, f"/wall?{t.wall_query}", sees(t), t.created_by, local_time(t.created_at, tz),
         local_time(t.last_used_at, tz) or "never", local_time(t.revoked_at, tz)] for t in tokens])


@token_app.command("revoke", epilog=EXIT_STATUS)
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (orderboard token list).", metavar="ID")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke a display token: its TV shows "token revoked" at its next refresh."""
    from datasource import account_changes
    from datasource.accounts import token_by_id

    settings = settings_for(db, config)
    with changing_store(settings) as engine:
        before = token_by_id(engine, token_id)
        token = account_change(engine, account_changes.revoke_token, token_id)
    if before is not None and before.revoked_at is not None:
        typer.echo(f"display token {token.id} was revoked already, at "
                   f"{local_time(token.revoked_at, settings.timezone)} ({settings.timezone})")
        return
    typer.echo(f"revoked display token {token.id}{f' ({token.label})' if token.label else ''}: "
               "its TV shows \"token revoked\" at its next refresh")


# -- orderboard audit -----------------------------------------------------------------

@command("audit")
def audit(
    since: Annotated[str | None, typer.Option(
        "--since", metavar="YYYY-MM-DD", help="First local day (the store's time zone).")] = None,
    until: Annotated[str | None, typer.Option(
        "--until", metavar="YYYY-MM-DD", help="Last local day, included.")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only entries of this actor (exact).")] = None,
    action: Annotated[str | None, typer.Option(
        "--action", help=f"Only entries of this action: {', '.join(ACTIONS)}.")] = None,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", metavar="FILE", dir_okay=False, help="Write every matching entry to a CSV file.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print every matching entry as JSON.")] = False,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=1, help=f"At most this many, newest first (the table's default: {TABLE_ROWS}).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """The audit log, newest first: logins, views, exports and admin changes."""
    import json

    from dashboard.export import table_bytes
    from datasource.audit import audit_entries, count_audit_entries
    from metrics.window import local_midnight
    from orderboard.cli_input import parse_day

    if action is not None and action not in ACTIONS:
        fail(f"--action {action}: no such action (one of {', '.join(ACTIONS)})", EXIT_USAGE)
    if csv_file is not None and json_:
        fail("give --csv FILE or --json, not both", EXIT_USAGE)
    settings = settings_for(db, config)
    tz = settings.timezone
    first = checked(parse_day, "--since", since) if since else None
    last = checked(parse_day, "--until", until) if until else None
    if first is not None and last is not None and first > last:
        fail(f"--since {since} is after --until {until}", EXIT_USAGE)
    start = local_midnight(first, tz) if first is not None else None
    end = local_midnight(last + timedelta(days=1), tz) if last is not None else None
    shown = limit if limit is not None else (None if csv_file is not None or json_ else TABLE_ROWS)
    engine = existing_store(settings)
    try:
        frame = audit_entries(engine, start, end, actor, action, limit=shown)
        total = count_audit_entries(engine, start, end, actor, action)
    finally:
        engine.dispose()
    frame["at"] = frame["at"].dt.tz_convert(tz)
    if csv_file is not None:
        out = frame.drop(columns=["id"]).assign(at=frame["at"].dt.strftime("%Y-%m-%d %H:%M:%S%z"))
        try:
            csv_file.write_bytes(table_bytes(out, "csv"))
        except OSError as exc:
            fail(f"cannot write {csv_file}: {exc.strerror or exc}")
        typer.echo(f"wrote {len(out)} audit entries to {csv_file}")
        return
    if json_:
        typer.echo(json.dumps([{
            "at": r.at.isoformat(), "actor": r.actor, "action": r.action, "target": r.target,
            "detail": r.detail} for r in frame.itertuples()], ensure_ascii=False, indent=2))
        return
    if frame.empty:
        typer.echo("no audit entries match")
        return
    print_table([f"at ({tz})", "actor", "action", "target", "detail"], [
        [r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.action, r.target or "", r.detail or ""]
        for r in frame.itertuples()])
    if total > len(frame):
        typer.echo(f"the newest {len(frame)} of {total} entries (--limit N, --csv FILE or --json for more)")


# -- orderboard demo --with-users --------------------------------------------------------

def with_logins(settings: Settings) -> Settings:
    """``settings`` with logins on: as they are when the ``secret_key`` setting is set,
    else with a random session key for this run (never printed)."""
    import secrets

    if settings.secret_key:
        typer.echo("logins: on (ORDERBOARD_SECRET_KEY)")
        return settings
    typer.echo("logins: on, with a session key for this run only (sign-ins end when the demo stops; "
               "set ORDERBOARD_SECRET_KEY to keep them)")
    return replace(settings, secret_key=secrets.token_hex(32))


def demo_users(engine: Engine, database_url: str) -> None:
    """Create the demo's users the store lacks and print them, the new passwords once."""
    from datasource.demo.users import ensure_demo_users

    users = ensure_demo_users(engine, cli_actor(), now_utc())
    new = [u for u in users if u.password is not None]
    if new:
        typer.echo("demo users (the passwords are shown this once):")
        for u in new:
            sees = "every order" if u.scope.is_everything else u.scope.describe()
            typer.echo(f"  {u.name}  {u.role}, sees {sees}  password: {u.password}")
    old = [u.name for u in users if u.password is None]
    if old:
        typer.echo(f"demo users {', '.join(old)} exist already (their passwords are not shown again; "
                   f"reset one with: orderboard user passwd NAME --db {masked_url(database_url)})")
