"""Where the alarms go: ``TAP_ALARM_EMAILS`` (or its one-address alias ``TAP_ALARM_EMAIL``),
``TAP_ALARM_TOPIC_ARN``, or nowhere on purpose (``TAP_ALARM_DESTINATION=none``). A deployable
production synth without any of them is refused; a local-backend one warns (README, "Settings").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from stacks.errors import ConfigError

#: Environments whose deployable synth (S3 backend) refuses alarms without a destination.
DESTINATION_REQUIRED = ("prod",)
_EMAIL_RE = re.compile(r"""^[^@\s,;<>"'()]+@[^@\s,;<>"'()]+\.[^@\s,;<>"'()]+$""")
#: A standard SNS topic (FIFO topics cannot be alarm actions) in some partition, region, account.
_TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:(?P<region>[a-z0-9-]+):[0-9]{12}:[A-Za-z0-9_-]{1,256}$")
_SETTINGS = "TAP_ALARM_EMAILS (comma-separated addresses), TAP_ALARM_TOPIC_ARN (an existing SNS topic)"


@dataclass(frozen=True)
class AlarmDestinations:
    """Who hears of an alarm besides the stack's own topic."""

    #: Subscribed by e-mail; the first keeps ``aws_sns_topic_subscription.alarm_email``.
    emails: tuple[str, ...] = ()
    #: An existing topic (chat, paging) every alarm also notifies.
    topic_arn: str | None = None
    #: ``TAP_ALARM_DESTINATION=none``: no destination, on purpose.
    opt_out: bool = False

    @property
    def empty(self) -> bool:
        """No address and no topic: the alarms reach nobody."""
        return not self.emails and self.topic_arn is None


def read_destinations(environ: Mapping[str, str]) -> AlarmDestinations:
    """The destinations the ``TAP_ALARM_*`` variables name (checked by :func:`check_destinations`)."""
    listed = environ.get("TAP_ALARM_EMAILS", "").strip()
    alias = environ.get("TAP_ALARM_EMAIL", "").strip()
    if listed and alias:
        raise ConfigError("TAP_ALARM_EMAIL is the one-address alias of TAP_ALARM_EMAILS: set only one of them")
    name, raw = ("TAP_ALARM_EMAILS", listed) if listed else ("TAP_ALARM_EMAIL", alias)
    emails = tuple(part.strip() for part in raw.split(",")) if raw else ()
    if not all(emails):
        raise ConfigError(f"{name}={raw!r} has an empty entry: separate addresses with single commas")
    if name == "TAP_ALARM_EMAIL" and len(emails) > 1:
        raise ConfigError(f"TAP_ALARM_EMAIL={raw!r} holds several addresses: use TAP_ALARM_EMAILS")
    destination = environ.get("TAP_ALARM_DESTINATION", "").strip()
    if destination.lower() not in ("", "none"):
        raise ConfigError(f"TAP_ALARM_DESTINATION={destination!r} is not understood: its one value is none")
    return AlarmDestinations(
        emails=emails,
        topic_arn=environ.get("TAP_ALARM_TOPIC_ARN", "").strip() or None,
        opt_out=destination.lower() == "none",
    )


def check_destinations(env: str, region: str, destinations: AlarmDestinations) -> None:
    """Reject an address or topic ARN that is not one, naming it."""
    seen: set[str] = set()
    for address in destinations.emails:
        if not _EMAIL_RE.match(address):
            raise ConfigError(f"{env}: TAP_ALARM_EMAILS entry {address!r} is not an e-mail address")
        if address.lower() in seen:
            raise ConfigError(f"{env}: TAP_ALARM_EMAILS lists {address!r} twice")
        seen.add(address.lower())
    arn = destinations.topic_arn
    if arn is not None:
        match = _TOPIC_ARN_RE.match(arn)
        if not match:
            raise ConfigError(
                f"{env}: TAP_ALARM_TOPIC_ARN={arn!r} is not a standard SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
            )
        if match["region"] != region:
            raise ConfigError(
                f"{env}: TAP_ALARM_TOPIC_ARN={arn!r} is in {match['region']}, the alarms in {region}: "
                "CloudWatch notifies topics of its own region"
            )
    if destinations.opt_out and not destinations.empty:
        raise ConfigError(
            f"{env}: TAP_ALARM_DESTINATION=none contradicts TAP_ALARM_EMAILS/TAP_ALARM_TOPIC_ARN: set one or the other"
        )


def lacks_destination(env: str, destinations: AlarmDestinations) -> bool:
    """Whether ``env`` must have a destination and has none (opted out or not)."""
    return env in DESTINATION_REQUIRED and destinations.empty


def missing_destination_error(env: str) -> ConfigError:
    """What a deployable (S3-backend) synth of ``env`` without a destination stops with."""
    return ConfigError(
        f"{env}: alarms have no destination: set {_SETTINGS} or TAP_ALARM_DESTINATION=none (no notifications)"
    )


def destination_warning(env: str, destinations: AlarmDestinations) -> str | None:
    """The one warning line for a stack whose alarms reach nobody; None when they reach someone."""
    if not lacks_destination(env, destinations):
        return None
    if destinations.opt_out:
        return (
            f"{env}: TAP_ALARM_DESTINATION=none: the alarms notify only the stack's own SNS topic, "
            "which nobody is subscribed to"
        )
    return (
        f"{env}: alarms have no destination ({_SETTINGS} or TAP_ALARM_DESTINATION=none); "
        "accepted with TAP_BACKEND=local, refused with the S3 backend"
    )
