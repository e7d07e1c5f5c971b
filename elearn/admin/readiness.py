"""What to set before the platform is used for real: settings still at their examples, the
demo's people in the database, a font missing for certificates. The administration's start
page lists them; nothing here stops the platform (the demo needs all of them as they are)."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..auth.models import LoginFailure, UserToken
from ..certificates import pdf
from ..demo import services as demo
from ..extensions import db
from ..org.models import utcnow
from ..throttle import RequestMark

EXAMPLE_DOMAIN = "@example.org"


def open_points() -> list[str]:
    """Sentences naming what is still to set, and the setting; none when all is set."""
    config, points = current_app.config, []
    if demo.has_demo_people():
        points.append(_(
            "Die Datenbank enthält Personen der Demo (Adressen bei example.org). Sie melden "
            "sich mit dem veröffentlichten Demo-Passwort an, auch als Administration, und "
            "zählen in den Berichten mit. Für den Betrieb eine eigene Datenbank verwenden "
            "(DATABASE_URL) statt der von „make run“."))
    if config["CITY_NAME"] == "Musterstadt":
        points.append(_("ELEARN_CITY_NAME ist nicht gesetzt: Seiten, E-Mails und Zertifikate "
                        "nennen die Verwaltung „Musterstadt“."))
    for setting, key, page in (
            ("ELEARN_PRIVACY_EMAIL", "PRIVACY_CONTACT_EMAIL", _("Datenschutzhinweise")),
            ("ELEARN_CONTACT_EMAIL", "CONTACT_EMAIL", _("Erklärung zur Barrierefreiheit"))):
        if config[key].endswith(EXAMPLE_DOMAIN):
            points.append(_("%(setting)s ist nicht gesetzt: Die Seite „%(page)s“ nennt als "
                            "Kontakt die Beispieladresse %(address)s.",
                            setting=setting, page=page, address=config[key]))
    if not config["SUPPORT_CONTACT"]:
        points.append(_("ELEARN_SUPPORT_CONTACT ist nicht gesetzt: Wer sich nicht anmelden "
                        "kann, findet auf den Seiten zur Anmeldung keinen Kontakt (Telefon, "
                        "Raum oder Adresse)."))
    if not config["ACCESSIBILITY_REVIEWED"]:
        points.append(_("ELEARN_ACCESSIBILITY_REVIEWED ist nicht gesetzt: Die Erklärung zur "
                        "Barrierefreiheit nennt kein Datum, an dem sie erstellt oder zuletzt "
                        "überprüft wurde."))
    if config["SECRET_KEY_GENERATED"] and \
            config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A shared database means several app servers, as a rule (the start logs this too).
        points.append(_("SECRET_KEY ist nicht gesetzt: Jeder App-Server unterschreibt "
                        "Anmeldungen mit einem eigenen Schlüssel (instance/secret_key). Mit "
                        "mehreren Servern gilt eine Anmeldung dann nur auf dem, der sie "
                        "angenommen hat: Setzen Sie auf allen denselben SECRET_KEY."))
    if pdf.font_path() is None:
        points.append(_("Für die Zertifikate fehlt eine Schrift mit allen Buchstaben (Paket "
                        "fonts-dejavu-core oder ELEARN_PDF_FONT): Namen wie „Çağla Yılmaz“ "
                        "stehen im PDF mit Fragezeichen."))
    if purge_overdue():
        points.append(_("Die tägliche Bereinigung („flask privacy purge“, siehe README) ist "
                        "seit mindestens zwei Tagen nicht gelaufen: Es gibt fehlgeschlagene "
                        "Anmeldungen, Aufrufe der Prüfseite oder abgelaufene Passwort-Links, "
                        "die nach den Datenschutzhinweisen schon gelöscht sein müssten."))
    if not config["SMTP_HOST"]:
        points.append(_("Kein E-Mail-Versand eingerichtet (ELEARN_SMTP_HOST): Einladungen "
                        "geben Sie selbst weiter, und wer das Passwort vergessen hat, wendet "
                        "sich an die Administration."))
    return points


def purge_overdue() -> bool:
    """Whether something the daily purge deletes after a day has waited two: the promises of
    the privacy notice hold only while a timer runs it, and nothing else would tell."""
    before = utcnow() - timedelta(days=2)
    return any(db.session.scalar(sa.select(sa.exists().where(old)))
               for old in (LoginFailure.created_at < before, RequestMark.created_at < before,
                           UserToken.expires_at < before))
