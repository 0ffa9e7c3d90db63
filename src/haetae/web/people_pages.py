"""My profile in the console: time zone and language, contact methods (masked), their
order, notification rules, test notifications with their delivery state, my password, and
signing out everywhere.

Everything goes through `haetae.people.service` and `haetae.notify.outbox`, as the API
does. A contact method's URL is shown masked; once saved it is never shown again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae import i18n
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.inputs import RowId, is_number
from haetae.notify import outbox
from haetae.notify.models import Notification
from haetae.notify.queries import NotificationRow, notification_rows
from haetae.oncall import ical
from haetae.people import service as people
from haetae.people.models import ContactMethod
from haetae.web.alerts_pages import base_url
from haetae.web.auth_pages import set_session_cookie, signed_out
from haetae.web.console import (
    Console,
    Refused,
    field,
    member_post,
    responder_post,
    signed_in,
)
from haetae.web.forms import Failure
from haetae.web.paging_panel import NOTIFICATION_STATUSES, UNSETTLED
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

NAME_MAX = 100
URL_MAX = 4000
DELAY_MAX = 7 * 24 * 60
ZONE_UNKNOWN = N_("Choose a time zone from the list.")
LOCALE_UNKNOWN = N_("Choose English or Korean.")
NAME_REQUIRED = N_("Give the contact method a name of at most 100 characters.")
URL_REQUIRED = N_("Give the contact method's Apprise URL, e.g. mailto://you@example.com.")
URL_REFUSED = N_("Haetae cannot deliver to that URL: %(reason)s")
NAME_TAKEN = N_("You already have a contact method named %(name)s.")
METHOD_REQUIRED = N_("Choose one of your contact methods.")
DELAY_INVALID = N_("Minutes after the page: a whole number from 0 to 10080.")
RULE_TAKEN = N_("That rule already exists.")
NO_METHOD = N_("You have no contact method %(id)s.")
NO_RULE = N_("You have no notification rule %(id)s.")
NO_TEST = N_("You have no test notification %(id)s.")
PASSWORD_MIN = 8
PASSWORD_MAX = 1000
CURRENT_WRONG = N_("Your current password is not correct.")
PASSWORD_SHORT = N_("The new password must have at least 8 characters.")
PASSWORD_LONG = N_("The new password can have at most 1000 characters.")
PASSWORD_MISMATCH = N_("The new password and its repetition differ.")
PASSWORD_CHANGED = N_("Password changed; you were signed out everywhere else.")
TOO_MANY_TRIES = N_("Too many attempts. Try again in %(seconds)s seconds.")


@dataclass
class MethodRow:
    method: ContactMethod
    masked: str
    last_test: NotificationRow | None


def _me(console: Console, session: Session) -> User:
    return people.get_user(session, console.actor)


def _method(console: Console, session: Session, user: User, method_id: int) -> ContactMethod:
    method = session.get(ContactMethod, method_id)
    if method is None or method.user_id != user.id:
        raise Refused(404, console.gettext(NO_METHOD) % {"id": method_id})
    return method


def _last_tests(session: Session, user: User) -> dict[int, NotificationRow]:
    newest = (
        select(func.max(Notification.id))
        .where(Notification.user_id == user.id, Notification.kind == "test")
        .group_by(Notification.contact_method_id)
    )
    rows = notification_rows(session, select(Notification).where(Notification.id.in_(newest)))
    return {r.row.contact_method_id: r for r in rows if r.row.contact_method_id}


def profile_page(
    console: Console,
    *,
    failure: Failure | None = None,
    status: int = 200,
    fresh_feed: str | None = None,
    notice: str | None = None,
) -> Response:
    with console.read() as session:
        user = _me(console, session)
        tests = _last_tests(session, user)
        methods = [
            MethodRow(m, people.mask_url(m.url), tests.get(m.id))
            for m in people.contact_methods(session, user)
        ]
        rules = people.notification_rules(session, user)
        return render(
            console,
            "profile.html",
            status_code=status,
            active="profile",
            user=user,
            methods=methods,
            rules=rules,
            failure=failure,
            zones=sorted(available_timezones()),
            locales=i18n.LANGUAGE_NAMES,
            statuses=NOTIFICATION_STATUSES,
            unsettled=UNSETTLED,
            fresh_feed=fresh_feed,
            notice=notice,
        )


def _back(anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/profile#{anchor}", status_code=303)


def _refused(console: Console, panel: str, messages: list[str], values: dict[str, str]) -> Response:
    return profile_page(console, failure=Failure(panel, messages, values), status=422)


@router.get("/profile")
def profile(
    console: Console = Depends(signed_in), changed: str = Query("", max_length=20)
) -> Response:
    # The redirect after a password change says so; the flag carries no secret.
    notice = console.gettext(PASSWORD_CHANGED) if changed == "password" else None
    return profile_page(console, notice=notice)


@router.post("/profile/password")
def change_password(posted: tuple[Console, FormData] = Depends(member_post)) -> Response:
    """A new password after the current one: every other session and login token ends, and
    this browser gets a fresh session cookie so it stays signed in."""
    console, form = posted
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    repeat = str(form.get("repeat_password") or "")
    request = console.request
    # A stolen session must not become a way to guess the password: count like sign-ins.
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.limiter.hit_login(console.actor, client)
    if wait is not None:
        message = console.gettext(TOO_MANY_TRIES) % {"seconds": int(wait)}
        page = profile_page(console, failure=Failure("password", [message], {}), status=429)
        page.headers["Retry-After"] = str(int(wait))
        return page
    messages = []
    if len(new) < PASSWORD_MIN:
        messages.append(console.gettext(PASSWORD_SHORT))
    elif len(new) > PASSWORD_MAX:
        messages.append(console.gettext(PASSWORD_LONG))
    if new != repeat:
        messages.append(console.gettext(PASSWORD_MISMATCH))
    settings = console.settings
    ttl = timedelta(minutes=settings.jwt_ttl_minutes)
    token = None
    with console.write() as session:
        user = _me(console, session)
        correct = auth.check_password(user, current)
        if correct and not messages:
            auth.set_password(user, new)
            # Issued after the version went up, so this token is the one that still works.
            token = auth.issue_token(
                user, secret=settings.jwt_secret or "", ttl=ttl, now=console.now()
            )
    if not correct:
        wrong = [console.gettext(CURRENT_WRONG)]
        return profile_page(console, failure=Failure("password", wrong, {}), status=401)
    if token is None:
        return _refused(console, "password", messages, {})
    response = RedirectResponse("/profile?changed=password#password", status_code=303)
    set_session_cookie(response, request, token)
    return response


@router.post("/profile/sign-out")
def sign_out_everywhere(posted: tuple[Console, FormData] = Depends(member_post)) -> Response:
    """End every session and login token of mine, this browser's too."""
    console, _form = posted
    with console.write() as session:
        auth.end_sessions(_me(console, session))
    return signed_out()


@router.post("/profile")
def save_profile(posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    """Time zone (blank: the policy's) and language."""
    console, form = posted
    values = {"time_zone": field(form, "time_zone"), "locale": field(form, "locale")}
    messages = []
    if values["time_zone"] and values["time_zone"] not in available_timezones():
        messages.append(console.gettext(ZONE_UNKNOWN))
    if values["locale"] not in i18n.LOCALES:
        messages.append(console.gettext(LOCALE_UNKNOWN))
    if messages:
        return _refused(console, "profile", messages, values)
    with console.write() as session:
        people.update_profile(
            session,
            _me(console, session),
            time_zone=values["time_zone"] or None,
            locale=values["locale"],
            fields={"time_zone", "locale"},
        )
    return _back("settings")


@router.post("/profile/ical-token")
def new_feed(posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    """A new secret URL of the signed-in person's own shifts, shown on this answer only."""
    console, _ = posted
    with console.write() as session:
        user = _me(console, session)
        token, user.ical_token_hash = ical.new_token()
        url = ical.user_feed_url(base_url(console), user.username, token)
    return profile_page(console, fresh_feed=url)


@router.post("/profile/contact-methods")
def add_method(posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    console, form = posted
    # The URL may hold a secret: a refused form does not send it back.
    values = {"name": field(form, "name")}
    url = field(form, "url")
    messages = []
    if not values["name"] or len(values["name"]) > NAME_MAX:
        messages.append(console.gettext(NAME_REQUIRED))
    if len(url) < 3 or len(url) > URL_MAX:
        messages.append(console.gettext(URL_REQUIRED))
    if messages:
        return _refused(console, "methods", messages, values)
    try:
        with console.write() as session:
            people.add_contact_method(
                session, _me(console, session), name=values["name"], url=url, now=console.now()
            )
    except HaetaeError as exc:
        if exc.code == "CONFLICT":
            message = console.gettext(NAME_TAKEN) % {"name": values["name"]}
        elif exc.code == "VALIDATION_ERROR":
            message = console.gettext(URL_REFUSED) % {"reason": exc.message.removeprefix("url: ")}
        else:
            raise
        return _refused(console, "methods", [message], values)
    return _back("contact-methods")


@router.post("/profile/contact-methods/{method_id}/enabled")
def switch_method(
    method_id: RowId, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    """`enabled=1` pages through it again, `enabled=0` stops using it."""
    console, form = posted
    with console.write() as session:
        user = _me(console, session)
        method = _method(console, session, user, method_id)
        people.update_contact_method(session, method, user, enabled=field(form, "enabled") == "1")
    return _back(f"method-{method_id}")


@router.post("/profile/contact-methods/{method_id}/move")
def move_method(
    method_id: RowId, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    """`direction=up` or `down` in the fallback order: swap places with the neighbour."""
    console, form = posted
    with console.write() as session:
        user = _me(console, session)
        method = _method(console, session, user, method_id)
        methods = people.contact_methods(session, user)
        index = methods.index(method)
        other = index - 1 if field(form, "direction") == "up" else index + 1
        if 0 <= other < len(methods):
            methods[index], methods[other] = methods[other], methods[index]
        # Positions 0..n-1 in the new order, so ties from the API cannot keep the old one.
        for position, each in enumerate(methods):
            if each.position != position:
                people.update_contact_method(session, each, user, position=position)
    return _back(f"method-{method_id}")


@router.post("/profile/contact-methods/{method_id}/remove")
def remove_method(
    method_id: RowId, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    console, _form = posted
    with console.write() as session:
        user = _me(console, session)
        people.delete_contact_method(session, _method(console, session, user, method_id))
    return _back("contact-methods")


@router.post("/profile/contact-methods/{method_id}/test")
def send_test(
    method_id: RowId, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    """Queue a test message; the worker sends it, and the page shows how it went."""
    console, _form = posted
    with console.write() as session:
        user = _me(console, session)
        method = _method(console, session, user, method_id)
        outbox.enqueue_test(session, method, by=console.actor, now=console.now())
    return _back(f"method-{method_id}")


@router.get("/profile/tests/{notification_id}")
def test_state(notification_id: RowId, console: Console = Depends(signed_in)) -> Response:
    """A test notification's delivery state, asked for again while it is unsettled."""
    with console.read() as session:
        user = _me(console, session)
        found = notification_rows(
            session,
            select(Notification).where(
                Notification.id == notification_id,
                Notification.user_id == user.id,
                Notification.kind == "test",
            ),
        )
        if not found:
            raise Refused(404, console.gettext(NO_TEST) % {"id": notification_id})
    return render(
        console,
        "profile_test_state.html",
        test=found[0],
        statuses=NOTIFICATION_STATUSES,
        unsettled=UNSETTLED,
    )


@router.post("/profile/rules")
def add_rule(posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    console, form = posted
    values = {"contact_method_id": field(form, "contact_method_id"), "delay": field(form, "delay")}
    messages = []
    method_id = values["contact_method_id"]
    if not is_number(method_id) or not 1 <= int(method_id) < 2**31:
        messages.append(console.gettext(METHOD_REQUIRED))
    if not is_number(values["delay"]) or int(values["delay"]) > DELAY_MAX:
        messages.append(console.gettext(DELAY_INVALID))
    if messages:
        return _refused(console, "rules", messages, values)
    try:
        with console.write() as session:
            user = _me(console, session)
            method = _method(console, session, user, int(values["contact_method_id"]))
            people.add_notification_rule(
                session, user, contact_method_id=method.id, delay_minutes=int(values["delay"])
            )
    except HaetaeError as exc:
        if exc.code != "CONFLICT":
            raise
        return _refused(console, "rules", [console.gettext(RULE_TAKEN)], values)
    return _back("rules")


@router.post("/profile/rules/{rule_id}/remove")
def remove_rule(
    rule_id: RowId, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    console, _form = posted
    with console.write() as session:
        user = _me(console, session)
        try:
            rule = people.get_notification_rule(session, user, rule_id)
        except HaetaeError as exc:
            if exc.code != "NOT_FOUND":
                raise
            raise Refused(404, console.gettext(NO_RULE) % {"id": rule_id}) from None
        people.delete_notification_rule(session, rule)
    return _back("rules")
