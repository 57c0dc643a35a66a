"""CODESIGN_SMTP_URL and CODESIGN_MAIL_FROM: parsed, validated, and the password never shown."""

from __future__ import annotations

import pytest

from codesign.config import Settings, SettingsError
from codesign.mail.smtp import parse_smtp_url

SECRET_PASSWORD = "s3cr3t-Pa55"
FROM = "Outcomes study <study@example.nhs.uk>"


def test_the_three_forms_of_the_smtp_url() -> None:
    starttls = parse_smtp_url(f"smtp://user%40nhs.net:{SECRET_PASSWORD}@smtp.example.nhs.uk:587")
    assert (starttls.host, starttls.port, starttls.username, starttls.starttls, starttls.implicit_tls) == (
        "smtp.example.nhs.uk", 587, "user@nhs.net", True, False)
    implicit = parse_smtp_url(f"smtps://user:{SECRET_PASSWORD}@smtp.example.nhs.uk")
    assert (implicit.port, implicit.implicit_tls, implicit.starttls) == (465, True, False)
    plain = parse_smtp_url("smtp://127.0.0.1:2525")
    assert (plain.port, plain.username, plain.starttls) == (2525, "", False)


def test_settings_read_mail_and_never_show_the_password() -> None:
    settings = Settings.from_env({"CODESIGN_ENV": "test", "CODESIGN_SMTP_URL": f"smtp://u:{SECRET_PASSWORD}@h:587",
                                  "CODESIGN_MAIL_FROM": FROM})
    assert settings.mail_from == FROM and SECRET_PASSWORD in settings.smtp_url
    assert SECRET_PASSWORD not in repr(settings) and SECRET_PASSWORD not in repr(parse_smtp_url(settings.smtp_url))


@pytest.mark.parametrize(("env", "says"), [
    ({"CODESIGN_SMTP_URL": f"http://u:{SECRET_PASSWORD}@h", "CODESIGN_MAIL_FROM": FROM}, "smtp://"),
    ({"CODESIGN_SMTP_URL": f"smtp://u:{SECRET_PASSWORD}@h:99999", "CODESIGN_MAIL_FROM": FROM}, "not a valid address"),
    ({"CODESIGN_SMTP_URL": f"smtp://:{SECRET_PASSWORD}@h", "CODESIGN_MAIL_FROM": FROM}, "both a user name"),
    ({"CODESIGN_SMTP_URL": f"smtp://u:{SECRET_PASSWORD}@h/x", "CODESIGN_MAIL_FROM": FROM}, "no path"),
    ({"CODESIGN_SMTP_URL": f"smtp://u:{SECRET_PASSWORD}@h"}, "CODESIGN_MAIL_FROM must be set"),
    ({"CODESIGN_MAIL_FROM": FROM}, "CODESIGN_SMTP_URL must be set"),
    ({"CODESIGN_SMTP_URL": f"smtp://u:{SECRET_PASSWORD}@h", "CODESIGN_MAIL_FROM": "not an address"}, "email address"),
])
def test_bad_mail_settings_are_refused_without_quoting_the_password(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"CODESIGN_ENV": "test", **env})
    assert says in str(refused.value) and SECRET_PASSWORD not in str(refused.value)


@pytest.mark.parametrize("kind", ["invitation", "reminder"])
def test_messages_are_plain_english_with_both_links(kind: str) -> None:
    from datetime import UTC, datetime

    from codesign.mail.render import MessageContext, render_message
    from codesign.readability import measure, sentences_of

    rendered = render_message(MessageContext(
        kind=kind, name="Asha <b>", study="Living well with diabetes", round_title="Round 1: What matters",
        closes_at=datetime(2027, 3, 4, 17, 0, tzinfo=UTC), link_url="https://x.example/take-part/TOKEN",
        unsubscribe_url="https://x.example/unsubscribe/UNSUB"))
    for body in (rendered.text, rendered.html):
        assert "https://x.example/take-part/TOKEN" in body and "https://x.example/unsubscribe/UNSUB" in body
    assert "5:00pm on Thursday 4 March 2027" in rendered.text
    assert "Asha &lt;b&gt;" in rendered.html and "<b>" not in rendered.html.split("<body", 1)[1].split("Hello", 1)[1][:20]
    # A line ending in a colon introduces a link on the next line: it ends a sentence there.
    words = " ".join(line.removesuffix(":") + ("." if line.endswith(":") else "")
                     for line in rendered.text.splitlines() if "://" not in line and not line.startswith("--"))
    found = measure(words)
    assert found.flesch >= 70, f"{kind}: Flesch {found.flesch:.1f}"
    assert max(len(s.split()) for s in sentences_of(words)) <= 20
