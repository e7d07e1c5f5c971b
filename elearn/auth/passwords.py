"""Password rules after NIST SP 800-63B and the BSI: long, no composition rules, no known patterns.

Two checks find guessable passwords. zxcvbn (Dropbox's estimator, with its lists of common
passwords, English words and names, keyboard walks, dates and l33t spellings) refuses what it
expects to fall within 10^8 guesses (its scores 0 to 2), such as "1qaz2wsx3edc" or
"Mausi12345678". Its lists are English, so the German words people pad with digits and symbols
("Passwort2024!!", "Sommer2026!!!") are refused by the list and patterns below. Both also
refuse the person's own name, e-mail address and city.
"""

import re

from flask_babel import gettext as _
from zxcvbn import zxcvbn

# zxcvbn's score 3: "safely unguessable", more than 10^8 guesses.
MIN_ZXCVBN_SCORE = 3

MIN_LENGTH, MAX_LENGTH = 12, 128

# Words that make up most long guessable passwords once digits and symbols are taken away.
COMMON_WORDS = frozenset("""
passwort password kennwort geheim geheimnis secret hallo hello willkommen welcome
letmein einlass admin administrator root benutzer user login anmelden zugang qwertz qwerty
azerty asdf yxcv sommer winter fruehling frühling herbst januar februar maerz märz april mai
juni juli august september oktober november dezember montag freitag wochenende schatz liebe
iloveyou ichliebedich sonnenschein sunshine fussball fußball football dragon monkey master
princess prinzessin schalke bayern borussia dortmund hamburg berlin muenchen münchen koeln köln
deutschland germany stadt verwaltung rathaus buergeramt bürgeramt digital computer internet
changeme aendern ändern test testen start passw0rt passwort1 abcdef
""".split())
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertzuiopü", "asdfghjklöä",
             "yxcvbnm", "qwertyuiop", "zxcvbnm")
# The examples the password pages print, in German and English; whoever copies one has no
# secret.
EXAMPLES = ("tulpefahrradkompassregen", "tulipbicyclecompassrain")
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_LEET = str.maketrans("0134@$5!7", "oieaassit")


def problems(password: str, *, email: str = "", names: tuple[str, ...] = (),
             city: str = "", estimate: bool = True) -> list[str]:
    """Every reason this password may not be used, in the user's language; empty when fine.

    Without `estimate`, zxcvbn is left out: the quick look a form takes when it is refused for
    another reason, which anyone with the form can ask for as often as they like."""
    if len(password) < MIN_LENGTH:
        return [_("Das Passwort muss mindestens %(n)s Zeichen lang sein.", n=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("Das Passwort darf höchstens %(n)s Zeichen lang sein.", n=MAX_LENGTH)]
    found = []
    folded = password.casefold()
    if _NOT_LETTERS.sub("", folded) in EXAMPLES:
        return [_("Das ist das Beispiel von dieser Seite. Nehmen Sie bitte eigene, zufällig "
                  "gewählte Wörter.")]
    personal_inputs = [p for p in (email, email.partition("@")[0], *names, city) if p]
    if _is_pattern(folded) or estimate and _guessable(password, personal_inputs):
        found.append(_("Dieses Passwort ist zu leicht zu erraten (ein häufiges Wort, eine "
                       "Tastatur- oder Zahlenfolge oder Wiederholungen). Nehmen Sie besser "
                       "mehrere zufällige Wörter."))
    local = email.partition("@")[0].casefold()
    personal = [p.casefold() for p in (local, *names) if len(p) >= 3]
    if any(p in folded for p in personal):
        found.append(_("Das Passwort darf weder Ihren Namen noch Ihre E-Mail-Adresse "
                       "enthalten."))
    if len(city) >= 3 and city.casefold() in folded:
        found.append(_("Das Passwort darf den Namen der Stadt nicht enthalten."))
    return found


# zxcvbn's run time grows steeply with the length and the number of l33t characters: 1.4 s of
# CPU for 64 characters such as "4@8({[<3…", 0.36 s for 32. It reads the first 32; what follows
# them only adds guesses. Beyond 64 characters nothing is guessable.
ESTIMATED_PREFIX = 32


def _guessable(password: str, personal_inputs: list[str]) -> bool:
    return len(password) <= 64 and zxcvbn(password[:ESTIMATED_PREFIX],
                                          user_inputs=personal_inputs)["score"] < MIN_ZXCVBN_SCORE


def _is_pattern(folded: str) -> bool:
    letters = _NOT_LETTERS.sub("", folded)
    core = _EDGES.sub("", folded)  # digits and symbols around a word are no protection
    respelled = _NOT_LETTERS.sub("", core.translate(_LEET))  # "P@ssw0rd" -> "password"
    for word in {letters, respelled}:
        if word == "" or word in COMMON_WORDS or _repeats_a_word(word):
            return True  # "Passwort2024!!", "123456789012", "SommerSommer"
    compact = re.sub(r"\s+", "", folded)
    if len(set(compact)) <= 2:
        return True  # "aaaaaaaaaaaa", "abababababab"
    return any(_runs_along(text, sequence) for text in {compact, letters} if len(text) >= 6
               for sequence in SEQUENCES)


def _repeats_a_word(word: str) -> bool:
    return any(len(word) % size == 0 and word[:size] * (len(word) // size) == word
               and word[:size] in COMMON_WORDS for size in range(3, len(word) // 2 + 1))


def _runs_along(text: str, sequence: str) -> bool:
    """True when the text is mostly one run along a row (forwards or backwards)."""
    longest = 0
    for row in (sequence, sequence[::-1]):
        for start in range(len(text)):
            length = 0
            while start + length < len(text) and text[start:start + length + 1] in row:
                length += 1
            longest = max(longest, length)
    return longest >= len(text) - 2
