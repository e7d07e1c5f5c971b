"""E-mail through SMTP when it is configured (ELEARN_SMTP_HOST); otherwise nothing is sent."""

import smtplib
from email.message import EmailMessage

from flask import current_app


def configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def send(to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; False when SMTP is not configured."""
    cfg = current_app.config
    if not configured():
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = cfg["SMTP_FROM"], to, subject
    message.set_content(body)
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=30) as smtp:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls()
        if cfg["SMTP_USER"]:
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
        smtp.send_message(message)
    return True
