"""What kind of channel a contact method is (phone, sms, email, slack, chat, webhook), so
that an escalation step can page a person through the kinds it names (`via`)."""

from __future__ import annotations

from typing import get_args
from urllib.parse import parse_qsl, urlsplit

from haetae.policy.escalation import Channel

CHANNEL_KINDS: tuple[str, ...] = get_args(Channel)

# Apprise schemes by the kind of channel they are. A scheme not listed (ntfy, pushover,
# opsgenie ...) has no kind: `via` never picks it unless the contact method is marked.
_SCHEMES: dict[str, tuple[str, ...]] = {
    "email": (
        "mailto", "mailtos", "ses", "sendgrid", "mailgun", "sparkpost", "resend",
        "smtp2go", "brevo", "postmark", "mailersend", "o365", "groundmail",
    ),
    "sms": (
        "46elks", "elks", "atalk", "bulksms", "bulkvs", "burstsms", "clickatell",
        "clicksend", "cm", "d7sms", "exotel", "freemobile", "httpsms", "infobip", "kaleyra",
        "kavenegar", "kudosity", "mobilemessage", "mobilemsg", "msg91", "msgbird", "nexmo",
        "octopush", "plivo", "serwersms", "seven", "sinch", "smpp", "smpps", "smsc",
        "smseagle", "smseagles", "smsmanager", "smsmgr", "smstunnel", "sns", "telesign",
        "telnyx", "twilio", "voipms", "vonage",
    ),
    # SFR's DMC service reads the message out in a call; Twilio calls with ?method=call.
    "phone": ("sfr",),
    "slack": ("slack",),
    "chat": (
        "discord", "gchat", "kakao", "kakaotalk", "line", "matrix", "matrixs", "mmost",
        "mmosts", "rocket", "rockets", "signal", "signals", "tgram", "threema", "viber",
        "webex", "whatsapp", "workflow", "workflows", "wxteams", "zulip",
    ),
    "webhook": ("json", "jsons", "xml", "xmls", "form", "forms"),
}  # fmt: skip
_KIND_OF_SCHEME = {scheme: kind for kind, schemes in _SCHEMES.items() for scheme in schemes}


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def _derived(url: str) -> str | None:
    scheme = _scheme(url)
    if scheme == "twilio":
        query = dict(parse_qsl(urlsplit(url).query))
        return "phone" if query.get("method", "").lower() == "call" else "sms"
    return _KIND_OF_SCHEME.get(scheme)


def channel_of(kind: str, url: str) -> str | None:
    """The channel kind of a contact method: the one it was marked with, else its URL's."""
    if kind in CHANNEL_KINDS and kind != _scheme(url):
        return kind
    return _derived(url)


def marked_kind(kind: str, url: str) -> str | None:
    """The kind a contact method was marked with (None: its URL says), as a config file
    writes it. A contact method keeps its `kind` column as the URL's scheme unless marked."""
    if kind in CHANNEL_KINDS and kind != _scheme(url):
        return kind
    return None
