from datetime import date

from flask import render_template, request, url_for
from flask_babel import format_date, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from .. import paging
from ..audit import ACTIONS
from ..auth.access import role_required
from ..auth.models import ADMIN
from ..auth.people_routes import ROLE_LABELS
from ..errors import render_error
from ..i18n import configured_german
from ..org.forms import KIND_LABELS
from . import bp, services

ACTION_LABELS = {
    "roles_changed": _l("Rollen geändert"), "deactivated": _l("Person deaktiviert"),
    "reactivated": _l("Person wieder aktiviert"), "invited": _l("Einladung erstellt"),
    "office_created": _l("Amt angelegt"), "office_renamed": _l("Amt umbenannt"),
    "office_moved": _l("Amt verschoben"), "users_imported": _l("Personen importiert"),
    "erased": _l("Personenbezogene Daten gelöscht"),
    # A past event, unlike the button of the same words on the certificates page.
    "certificate_revoked": lazy_pgettext("audit", "Zertifikat widerrufen"),
    "moved": _l("Person umgesetzt"),
    "offices_imported": _l("Ämter importiert"), "cohort_created": _l("Lerngruppe angelegt"),
    "cohort_members_added": _l("Mitglieder einer Lerngruppe hinzugefügt"),
    "cohort_member_removed": _l("Mitglied aus einer Lerngruppe entfernt"),
    "cohort_lead_added": _l("Leitung einer Lerngruppe hinzugefügt"),
    "cohort_lead_removed": _l("Leitung einer Lerngruppe entfernt"),
    "cohort_changed": _l("Lerngruppe geändert"),
    "cohort_deleted": _l("Lerngruppe gelöscht"),
    "office_kind_changed": _l("Art eines Amts geändert"),
    "person_changed": _l("Name oder E-Mail-Adresse geändert"),
    "certificate_issued": _l("Zertifikat von Hand ausgestellt"),
    "kept_deactivated": _l("Deaktivierung festgehalten (eine Liste aktiviert nicht wieder)"),
    "quiz_attempts_renewed": _l("Neue Quizversuche freigegeben"),
    "data_exported": _l("Auskunftsdatei erstellt"),
}
# The keys of an entry's details, as the page shows them: within a list ("code: 33.1; people:
# …"), so with their own context, apart from the same words as headings.
DETAIL_LABELS = {
    "before": lazy_pgettext("audit detail", "vorher"),
    "after": lazy_pgettext("audit detail", "nachher"),
    "source": lazy_pgettext("audit detail", "Quelle"),
    "filename": lazy_pgettext("audit detail", "Datei"),
    "created": lazy_pgettext("audit detail", "neu"),
    "updated": lazy_pgettext("audit detail", "geändert"),
    "unchanged": lazy_pgettext("audit detail", "unverändert"),
    "deactivated": lazy_pgettext("audit detail", "deaktiviert"),
    "reactivated": lazy_pgettext("audit detail", "wieder aktiviert"),
    "left_deactivated": lazy_pgettext("audit detail", "blieben deaktiviert (von Hand)"),
    "invited": lazy_pgettext("audit detail", "eingeladen"),
    "mailed": lazy_pgettext("audit detail", "per E-Mail"),
    "password_reset": lazy_pgettext("audit detail", "bisheriges Passwort aufgehoben"),
    "password_kept": lazy_pgettext("audit detail", "Passwort unverändert, Link aufgehoben"),
    "code": lazy_pgettext("audit detail", "Kennung"),
    "parent": lazy_pgettext("audit detail", "übergeordnet"),
    "attempts": lazy_pgettext("audit detail", "Quizversuche"),
    "certificates": lazy_pgettext("audit detail", "Zertifikate"),
    "added": lazy_pgettext("audit detail", "hinzugefügt"),
    "how": lazy_pgettext("audit detail", "Weg"),
    "person": lazy_pgettext("audit detail", "Person"),
    "lead": lazy_pgettext("audit detail", "Leitung"),
    "name": lazy_pgettext("audit detail", "Name"),
    "people": lazy_pgettext("audit detail", "Personen"),
    "members": lazy_pgettext("audit detail", "Mitglieder"),
    "days": lazy_pgettext("audit detail", "Löschfrist (Tage)"),
    "fields": lazy_pgettext("audit detail", "Angaben"),
    "course": lazy_pgettext("audit detail", "Kurs"),
    "module": lazy_pgettext("audit detail", "Modul"),
}


# Coded values in the details, in words; role codes use the labels of the people pages.
VALUE_LABELS = {
    "cli": _l("Kommandozeile"), "upload": _l("hochgeladene Datei"), "import": _l("Import"),
    "person": _l("einzeln"), "office": _l("ganzes Amt"), "file": _l("Liste"),
    "purge": _l("Löschfrist nach Deaktivierung (privacy purge)"),
    "first_name": _l("Vorname"), "last_name": _l("Nachname"), "email": _l("E-Mail-Adresse"),
    True: _l("ja"), False: _l("nein"),
}


# The fields of a learning group's before and after (cohort_changed), stored with ISO dates.
GROUP_FIELDS = {"name": _l("Name"), "starts_on": _l("Beginn"), "ends_on": _l("Ende")}


def detail_text(value, named: bool = False) -> Markup:
    """One value of an entry's details as the page shows it; `named`: the value is a name the
    city gave in German (a group's or an office's), marked so on English pages (WCAG 3.1.2)."""
    if isinstance(value, list):
        return Markup(", ").join(detail_text(v, named) for v in value)
    if isinstance(value, dict):  # "Name: Pilot A, Beginn: 02.03.2026", not the stored dict
        return Markup(", ").join(Markup("{}: {}").format(GROUP_FIELDS.get(key, key),
                                                         _field_value(key, item))
                                 for key, item in value.items())
    if isinstance(value, bool | str) and value in VALUE_LABELS:
        return escape(VALUE_LABELS[value])
    if isinstance(value, str) and value in ROLE_LABELS:
        return escape(ROLE_LABELS[value])
    if named and isinstance(value, str):
        return escape(configured_german(value))
    return escape("–" if value is None else value)


def _field_value(key: str, value) -> Markup:
    if key.endswith("_on") and isinstance(value, str):
        try:
            return escape(format_date(date.fromisoformat(value)))
        except ValueError:
            pass
    return detail_text(value, named=key == "name")


def detail_items(action: str, details: dict) -> list[tuple[str, str, object, Markup]]:
    """(key, label, value, text) of an entry's details: "vorher" before "nachher", then the
    rest in the order of DETAIL_LABELS; a certificate's code is its Prüfcode, as everywhere
    else. `text` is the value as the page shows it."""
    order = list(DETAIL_LABELS)
    items = []
    for key in sorted(details, key=lambda k: (order.index(k) if k in order else len(order), k)):
        label = DETAIL_LABELS.get(key, key)
        if key == "code" and action.startswith("certificate"):
            label = lazy_pgettext("audit detail", "Prüfcode")
        value = details[key]
        if action == "office_kind_changed":  # stored as codes: "einheit" -> „Einheit“, "Unit"
            value = KIND_LABELS.get(value, value)
        named = key == "name" or action == "office_renamed" and key in ("before", "after")
        items.append((key, label, value, detail_text(value, named)))
    return items


@bp.app_context_processor
def _labels():
    return {"action_labels": ACTION_LABELS, "detail_items": detail_items}


@bp.get("/verwaltung")
@role_required(ADMIN)
def index():
    from . import readiness

    return render_template("admin/index.html", open_points=readiness.open_points())


@bp.get("/verwaltung/protokoll")
@role_required(ADMIN)
def audit_log():
    number = paging.page_number(request.args.get("seite", "1"))
    action = request.args.get("aktion") or None
    if action is not None and action not in ACTIONS:
        # The error page has no list to choose from: it leads back to the one that has.
        return render_error(400, _("Diese Art von Eintrag gibt es nicht. Im Protokoll wählen Sie "
                                   "eine aus der Liste oder „alle“."),
                            back=(url_for("admin.audit_log"), _("Zum Protokoll")))
    return render_template("admin/audit.html", page=services.audit_page(number, action),
                           action=action)
