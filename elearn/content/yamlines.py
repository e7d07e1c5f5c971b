"""YAML loading that remembers the line of every mapping key and list item."""

import re

import yaml

from ..security import FORBIDDEN_CHARACTERS


class LineDict(dict):
    """A dict whose .lines maps each key to its 1-based line, and .line to its own."""

    line = 1
    lines: dict


class LineList(list):
    line = 1
    lines: list


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _Int(int):
    """A number as the file writes it (`source`): a field that takes text reads that."""

    source: str


class _Float(float):
    source: str


def _folded_list_item(node: yaml.ScalarNode) -> int | None:
    """The 0-based line within the text of a plain scalar's continuation line that starts
    with "- ": a list item indented one space more than the one before, which YAML reads as
    more text of that item ("Erstes Lernziel - Zweites Lernziel")."""
    start, end = node.start_mark, node.end_mark
    if node.style is not None or start.line == end.line or start.buffer is None:
        return None
    for number, line in enumerate(start.buffer[start.index:end.index].split("\n")[1:], 1):
        if line.lstrip().startswith("- "):
            return start.line + number
    return None


def _scalar(node: yaml.ScalarNode, offset: int):
    folded = _folded_list_item(node)
    if folded is not None:
        raise YamlSyntaxError(folded + 1 + offset,
                              "Die Zeile beginnt mit „- “, gehört wegen ihrer Einrückung aber "
                              "zum Text der Zeile davor. Listenpunkte einer Liste stehen genau "
                              "untereinander; ist der Strich Teil des Textes, setzen Sie den "
                              "Text in Anführungszeichen.")
    loader = yaml.SafeLoader("")
    try:
        value = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # `!foo x`, `!!int abc`, ...
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(node.start_mark.line + 1 + offset,
                              f"Wert lässt sich nicht lesen: {problem}") from None
    finally:
        loader.dispose()
    if node.style is None and type(value) in (int, float):  # `version: 1.10` means "1.10"
        value = (_Int if type(value) is int else _Float)(value)
        value.source = node.value
    found = FORBIDDEN_CHARACTERS.search(value) if isinstance(value, str) else None
    if found:  # written as an escape in quotes ("\0", "\u202e"): the file itself is clean
        raise YamlSyntaxError(node.start_mark.line + 1 + offset, refused_character(found))
    return value


def refused_character(found: re.Match) -> str:
    """What a course file must not hold (security.FORBIDDEN_CHARACTERS, as forms refuse it):
    PostgreSQL's text cannot store a NUL, and a direction override shows learners the text in
    another order than the file has it."""
    return (f"Unzulässiges Steuerzeichen U+{ord(found.group()):04X} (etwa ein Nullzeichen oder "
            "ein Zeichen, das die Schreibrichtung umkehrt). Bitte entfernen Sie es.")


_INDENTATION = ("Die Einrückung passt nicht: Einträge derselben Ebene müssen genau gleich weit "
                "eingerückt sein.")
# PyYAML's account of a problem (its `problem`, or its `context` where that says more), as
# a course author can act on it, and whether the line to name is where the context began
# (an unclosed quotation mark is noticed only at the end of the file).
_EXPLAINED = (
    ("mapping values are not allowed here", False,
     "Hier steht ein Doppelpunkt, wo keiner stehen darf. Enthält ein Text „: “, setzen Sie ihn "
     "in Anführungszeichen, etwa title: \"Teil 1: Grundlagen\". Oder die Zeile ist weiter "
     "eingerückt als die Zeilen derselben Ebene."),
    ("found character '\\t'", False,
     "Hier steht ein Tabulatorzeichen. YAML rückt nur mit Leerzeichen ein."),
    ("that cannot start any token", False,
     "Ein Wert beginnt mit einem Zeichen, mit dem YAML keinen Text beginnen lässt (etwa @, ` "
     "oder %). Setzen Sie den Text in Anführungszeichen."),
    ("while scanning a quoted scalar", True,
     "Dieses Anführungszeichen wird nicht geschlossen."),
    ("while scanning a double-quoted scalar", True,
     "Ein Rückstrich (\\) in doppelten Anführungszeichen leitet ein Sonderzeichen ein. "
     "Verwenden Sie einfache Anführungszeichen oder schreiben Sie zwei Rückstriche."),
    ("while scanning an alias", True,
     "Ein Wert beginnt mit „*“, das liest YAML als Verweis. Setzen Sie den Text in "
     "Anführungszeichen, etwa \"*wichtig*\"."),
    ("while scanning an anchor", True,
     "Ein Wert beginnt mit „&“, das liest YAML als Anker. Setzen Sie den Text in "
     "Anführungszeichen."),
    ("could not find expected ':'", True,
     "In dieser Zeile fehlt der Doppelpunkt nach dem Feldnamen (name: Wert), oder ein Text über "
     "mehrere Zeilen ist nicht eingerückt."),
    ("but found '<scalar>'", False,
     "Nach einem Text in Anführungszeichen steht hier noch weiterer Text. Setzen Sie den ganzen "
     "Text in Anführungszeichen, etwa title: 'Teil \"1\" Grundlagen'. Oder: " + _INDENTATION),
    ("expected <block end>", False, _INDENTATION),
    ("did not find expected", False, _INDENTATION),
    ("while parsing a flow sequence", True,
     "Diese Liste in eckigen Klammern [ ] ist nicht richtig geschlossen, oder ein Eintrag "
     "enthält ein Komma oder einen Doppelpunkt ohne Anführungszeichen."),
    ("while parsing a flow mapping", True,
     "Diese Angabe in geschweiften Klammern { } ist nicht richtig geschlossen."),
)


def _explained(exc: yaml.MarkedYAMLError, offset: int) -> tuple[int, str]:
    """The line and the message for a syntax error: in German where PyYAML's is known, with
    PyYAML's own words after it for whoever knows YAML."""
    mark = exc.problem_mark or exc.context_mark
    line = (mark.line + 1 if mark else 1) + offset
    technical = exc.problem or str(exc)
    for phrase, at_context, german in _EXPLAINED:
        if phrase in technical or phrase in (exc.context or ""):
            if at_context and exc.context_mark:
                line = exc.context_mark.line + 1 + offset
            return line, f"YAML-Syntaxfehler: {german} (YAML: {technical})"
    return line, f"YAML-Syntaxfehler (YAML: {technical})"


def load(text: str, offset: int = 0):
    """Parse YAML text; `offset` shifts reported lines (for front matter inside a file)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None
        return _convert(node, offset, set())
    except yaml.MarkedYAMLError as exc:
        raise YamlSyntaxError(*_explained(exc, offset)) from exc
    except RecursionError:  # thousands of "[" in a row: the parser recurses once per level
        raise YamlSyntaxError(1 + offset, "Die Datei ist zu tief verschachtelt (Listen oder "
                                          "Schlüssel in Tausenden Ebenen). So ist keine "
                                          "Kursdatei aufgebaut.") from None


def _convert(node: yaml.Node, offset: int, seen: set[int]):
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, offset)
    line = node.start_mark.line + 1 + offset
    # An alias (*name) hands back a node seen before. Course files need none, and nested or
    # self-referring aliases would multiply into millions of values or never end.
    if id(node) in seen:
        raise YamlSyntaxError(line, "Anker und Verweise (& und *) sind in Kursdateien nicht "
                                    "erlaubt.")
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        result = LineDict()
        result.line, result.lines = line, {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError(key_node.start_mark.line + 1 + offset,
                                      "Ein Schlüssel muss ein einfacher Wert sein, keine Liste.")
            key = _convert(key_node, offset, seen)
            if key in result:
                raise YamlSyntaxError(
                    key_node.start_mark.line + 1 + offset, f"Schlüssel „{key}“ ist doppelt."
                )
            result[key] = _convert(value_node, offset, seen)
            result.lines[key] = key_node.start_mark.line + 1 + offset
        return result
    result = LineList(_convert(item, offset, seen) for item in node.value)
    result.line = line
    result.lines = [item.start_mark.line + 1 + offset for item in node.value]
    return result
