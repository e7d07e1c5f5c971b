"""What a form's page showed. An edit form sends every field, so one sent from a page opened
before someone else's change (another administrator, the same one in another tab) undid that
change without a word, and the page said "saved". The page carries a fingerprint of the
stored values it showed; the save compares it with the values stored now."""

import hashlib
import json

from flask import Flask, request
from flask_babel import gettext as _

FIELD = "stand"


def shown_state(*values) -> str:
    """A short fingerprint of the stored values a form's page shows."""
    text = json.dumps(values, default=str, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changed_since_shown(*values, sent: tuple | None = None) -> bool:
    """Whether the values stored now differ from those the sent form's page showed, and from
    the values the form sends (`sent`, in the same order): a double click's second request
    carries the page's old state, and its change is the one just saved. A form without the
    field (a script's, one from before this release) is taken as it comes."""
    shown = request.form.get(FIELD)
    if shown is None or shown == shown_state(*values):
        return False
    return sent is None or tuple(sent) != values


def changed_meanwhile() -> str:
    """What the page says when it refused such a form (status 409)."""
    return _("Nicht gespeichert: Jemand hat diese Angaben inzwischen geändert, vielleicht Sie "
             "selbst in einem anderen Fenster. Die Seite zeigt jetzt den gespeicherten Stand. "
             "Prüfen Sie ihn und machen Sie Ihre Änderung dann noch einmal.")


def init_app(app: Flask) -> None:
    app.add_template_global(shown_state)
