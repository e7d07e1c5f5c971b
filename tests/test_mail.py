"""Mail to the city's server: password links travel in it, so TLS checks the server."""

import smtplib
import ssl

import pytest

from elearn import mail


class FakeServer:
    """Stands in for smtplib.SMTP and smtplib.SMTP_SSL; records what the platform asked for."""

    calls: list

    def __init__(self, kind):
        self.kind = kind

    def __call__(self, host, port, timeout, context=None):
        FakeServer.calls.append((self.kind, host, port, context))
        return self

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False

    def starttls(self, context=None):
        FakeServer.calls.append(("starttls", context))

    def login(self, user, password):
        FakeServer.calls.append(("login", user))

    def send_message(self, message):
        FakeServer.calls.append(("message", message["To"]))


@pytest.fixture
def server(app, monkeypatch):
    FakeServer.calls = []
    monkeypatch.setattr("smtplib.SMTP", FakeServer("smtp"))
    monkeypatch.setattr("smtplib.SMTP_SSL", FakeServer("smtps"))
    app.config.update(SMTP_HOST="smtp.stadt.example", SMTP_USER="lernen", SMTP_PASSWORD="x")
    return FakeServer.calls


def _checks_the_server(context) -> bool:
    return isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED \
        and context.check_hostname


def test_starttls_checks_the_servers_certificate_and_name(app, server):
    """smtplib's STARTTLS without a context accepts any certificate: whoever sits between the
    platform and the mail server could read the password links and the SMTP password."""
    app.config.update(SMTP_PORT=587, SMTP_STARTTLS=True)
    assert mail.send("a@stadt.example", "Betreff", "Text")
    assert [c[0] for c in server] == ["smtp", "starttls", "login", "message"]
    assert _checks_the_server(server[1][1])


def test_port_465_speaks_tls_from_the_start_and_checks_the_server(app, server):
    """Port 465 (SMTPS) waits for TLS first: plain SMTP there hung until the timeout."""
    app.config.update(SMTP_PORT=465, SMTP_STARTTLS=True)
    assert mail.send("a@stadt.example", "Betreff", "Text")
    assert [c[0] for c in server] == ["smtps", "login", "message"]
    assert server[0][1:3] == ("smtp.stadt.example", 465) and _checks_the_server(server[0][3])


def test_without_starttls_the_connection_stays_plain(app, server):
    """ELEARN_SMTP_STARTTLS=0, for a relay on the same host or network."""
    app.config.update(SMTP_PORT=25, SMTP_STARTTLS=False)
    assert mail.send("a@stadt.example", "Betreff", "Text")
    assert [c[0] for c in server] == ["smtp", "login", "message"]


def test_a_message_carries_date_message_id_and_says_it_was_sent_automatically(app, server,
                                                                               monkeypatch):
    """Relays do not always add Date and Message-ID for a client that is not local (spam
    scores rise), and reminders drew out-of-office replies."""
    sent = []
    monkeypatch.setattr(FakeServer, "send_message", lambda self, message: sent.append(message),
                        raising=False)
    app.config["SMTP_FROM"] = "Lernplattform <lernen@stadt.example>"
    with app.app_context():
        assert mail.send("ada@stadt.example", "Betreff", "Text")
    (message,) = sent
    assert message["Date"] and message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@stadt.example>")


def test_the_settings_can_be_tried_with_a_test_message(app, server, monkeypatch):
    runner = app.test_cli_runner()
    app.config.update(SMTP_FROM="lernen@stadt.example", SMTP_PORT=587)
    done = runner.invoke(args=["mail", "test", "it@stadt.example"])
    assert done.exit_code == 0
    assert done.output == "sent to it@stadt.example via smtp.stadt.example:587 from " \
                          "lernen@stadt.example\n"
    assert ("message", "it@stadt.example") in server

    def refuse(self, message):
        raise smtplib.SMTPSenderRefused(553, b"not allowed for this sender", "lernen@x")

    monkeypatch.setattr(FakeServer, "send_message", refuse)
    failed = runner.invoke(args=["mail", "test", "it@stadt.example"])
    assert failed.exit_code == 1
    assert "Not sent: SMTPSenderRefused: (553, b'not allowed for this sender'" in failed.output
    app.config["SMTP_HOST"] = ""
    off = runner.invoke(args=["mail", "test", "it@stadt.example"])
    assert off.exit_code == 1 and "No mail server configured" in off.output
