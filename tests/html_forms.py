"""What a browser would post from a page's form: its fields with their values as shown (stdlib's HTML parser)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: tuple[str | None, bool, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._fields = []
            self.forms.append((a.get("action", ""), self._fields))
        if self._fields is None:
            return
        if tag == "input" and "name" in a and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._fields.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea" and "name" in a:
            self._textarea = (a["name"], [])
        elif tag == "select" and "name" in a:
            self._select = (a["name"], [])
        elif tag == "option" and self._select is not None:
            self._option = (a.get("value"), "selected" in a, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._option is not None:
            self._option[2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._fields is not None:
            text = "".join(self._textarea[1])
            self._fields.append((self._textarea[0], text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value, selected, label = self._option
            self._select[1].append((value if value is not None else "".join(label), selected))
            self._option = None
        elif tag == "select" and self._select is not None and self._fields is not None:
            options = self._select[1]
            chosen = next((v for v, s in options if s), options[0][0] if options else "")
            self._fields.append((self._select[0], chosen))
            self._select = None
        elif tag == "form":
            self._fields = None


def form_fields(page: str, action_ends: str) -> list[tuple[str, str]]:
    """The fields of the first form whose action ends with `action_ends`, as a browser would send them."""
    parser = _Forms()
    parser.feed(page)
    for action, fields in parser.forms:
        if action.endswith(action_ends):
            return list(fields)
    raise AssertionError(f"no form posting to …{action_ends}")


def with_values(fields: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    """The fields with some values changed (keys with '|' spelled as '__' and '.' as '_')."""
    out = list(fields)
    for key, value in changes.items():
        index = next(i for i, (name, _) in enumerate(out) if name == key)
        out[index] = (key, value)
    return out
