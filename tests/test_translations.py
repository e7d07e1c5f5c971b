"""English is complete: every German UI string has a checked English translation."""

from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).parent.parent / "elearn/translations/en/LC_MESSAGES/messages.po"


def test_english_catalogue_is_complete():
    with PO.open("rb") as f:
        catalog = read_po(f)
    untranslated = [m.id for m in catalog if m.id and (
        not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and "fuzzy" in m.flags]
    assert untranslated == [] and fuzzy == []
    assert len(catalog) > 100


def test_quiz_pages_are_english_when_chosen(client, auth, learner, synced):
    auth.login()
    client.post("/language", data={"lang": "en", "csrf_token": _token(client)})
    page = client.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert "Learning objectives" in page
    assert "Lernziele" not in page


def _token(client):
    from .conftest import csrf_token

    return csrf_token(client, "/")
