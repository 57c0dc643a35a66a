"""Checking a join code: only a POST does it, and every check takes a place in the limits.

A wrong code slows the device that typed it, not the room. Two limits (services.ratelimit):
- per device (a random id in the device's signed cookie): 5 free wrong codes in 10 minutes, then
  a wait of 30 s, 1, 2, 4, then 5 minutes. It only ever affects that tablet.
- per address (a venue's Wi-Fi is one address; IPv6 counts per /64): 300 free wrong codes an hour,
  then 2 s doubling to a minute. A venue of 100+ tablets mistyping a few times each stays far
  below it.
The right code gives its places back, so only wrong codes count, and the right code from any other
device works at once (unless the address itself has used its budget: see "a flood" below).

Brute force: a code is 8 characters of 31, 31**8 = 852,891,037,441 (about 8.5e11). A new cookie
is a new device, so the device limit does not bind an attacker; the address limit does: at most
8,712 checks a day from one address (`ratelimit.most_attempts`; a test keeps this figure true).
With 1,000 open sessions, each check finds one with chance 1,000 / 8.5e11, so one address guessing
non-stop finds a session about once in 98,000 days; with 10,000 open sessions, once in 9,800 days
(about 1 in 27 a year). An attacker with many addresses divides that by their number; closing
sessions after the workshop keeps the odds long. What a code gives is a participant's place in one
session (propose, vote): moderated, visible to the facilitator, and not an account.

A flood from the venue's own address (someone on the venue Wi-Fi scripting guesses) uses up that
address's 300 and then everyone there is slowed: one code check per wait (up to a minute) for the
whole address while the flood goes on. Tablets that already joined are not affected (their cookie
takes them back in, and "Not you?" goes straight to choosing a group, without a code); a newcomer
may have to wait, or use mobile data. The facilitator sees the message people get.

A code that is not 8 characters of the alphabet is refused before anything is looked up or
counted: it reveals nothing, and never reaches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from codesign.config import Settings
from codesign.errors import ValidationFailed
from codesign.models import SessionMode, SessionStatus, WorkshopSession
from codesign.services import ratelimit
from codesign.services.ratelimit import Claim, Policy, Slowed
from codesign.services.sessions import canonical_join_code
from codesign.validation import normalise_text

NO_MATCH = "That code did not match. Check it against the screen"
MALFORMED = "Codes have 8 letters and numbers, like ABCD 2345. Check it against the screen"
ADDRESS_POLICY_WINDOW = 3600


@dataclass(frozen=True)
class JoinLimits:
    device: Policy
    address: Policy

    @classmethod
    def from_settings(cls, settings: Settings) -> JoinLimits:
        return cls(
            device=Policy("join device", settings.join_max_failures, settings.join_window_seconds, 30, 300,
                          clear_on_success=True),
            address=Policy("join address", settings.join_address_max_failures, ADDRESS_POLICY_WINDOW, 2, 60),
        )

    def claims(self, device: str, address: str) -> list[Claim]:
        return [Claim(f"join:device:{device}", self.device), Claim(f"join:address:{address}", self.address)]

    def message(self, slowed: Slowed) -> str:
        wait = ratelimit.wait_text(slowed.wait_seconds)
        if slowed.policy is self.address:
            return (f"Wait {wait}, then try again. Many wrong codes have come from this network (such as "
                    "the venue's Wi-Fi), so codes from it are being slowed down. Ask the facilitator if this goes on.")
        return f"Wait {wait}, then try again. This only affects this device."


ONLINE = "This is an online study: please use the personal link in the email we sent you"


def prove_join_code(db: Session, raw_code: str, *, device: str, address: str, limits: JoinLimits,
                    now: datetime | None = None) -> WorkshopSession:
    """The open session with this code, checked under the limits; or ValidationFailed / Slowed."""
    if not raw_code.strip():
        raise ValidationFailed({"code": "Enter the code shown on the screen"}, {"code": ""})
    code = canonical_join_code(raw_code)
    typed = normalise_text(raw_code)[:40]  # shown back in the form: no control characters
    if code is None:
        raise ValidationFailed({"code": MALFORMED}, {"code": typed})
    try:
        reservation = ratelimit.reserve(db, limits.claims(device, address), now)
    except Slowed as exc:
        raise Slowed(exc.wait_seconds, exc.policy, limits.message(exc)) from None
    session = db.exec(select(WorkshopSession).where(WorkshopSession.join_code == code)).first()
    ok = session is not None and session.status == SessionStatus.open
    ratelimit.settle(db, reservation, ok)
    db.commit()
    if session is None:
        raise ValidationFailed({"code": NO_MATCH}, {"code": typed})
    if not ok:
        raise ValidationFailed({"code": "This session has closed. Ask the facilitator if you think it should be open"},
                               {"code": typed})
    if session.mode == SessionMode.online:  # refused here, at the code: not after a name and a group
        raise ValidationFailed({"code": ONLINE}, {"code": typed})
    return session
