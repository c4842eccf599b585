"""The POST forms of a rendered page, and what a browser would send for each of them.

A test that posts what the page renders (hidden CSRF fields under their real names, prefixed
fields, the button that was pressed) catches a template whose form does not match its view:
a test that makes up its own field names does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Control:
    tag: str  # input, select, textarea, button
    type: str
    name: str
    value: str
    checked: bool = False
    required: bool = False
    label: str = ""  # a button's text


@dataclass
class PageForm:
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)

    @property
    def buttons(self) -> list[Control]:
        return [c for c in self.controls if c.tag == "button" or c.type == "submit"]

    def data(self, button: Control | None = None, *, tick: bool = True) -> list[tuple[str, str]]:
        """The fields a browser sends when this button is pressed. A required checkbox is
        ticked (unless ``tick`` is false) and an empty required text field filled in, as a
        person must do before the browser sends the form."""
        sent = []
        for c in self.controls:
            if not c.name or c in self.buttons:
                continue
            if c.type in ("checkbox", "radio"):
                if c.checked or (tick and c.type == "checkbox" and c.required):
                    sent.append((c.name, c.value or "on"))
            elif c.required and not c.value and c.type in ("text", "textarea"):
                sent.append((c.name, "Ingevuld"))
            else:
                sent.append((c.name, c.value))
        if button is not None and button.name:
            sent.append((button.name, button.value))
        return sent


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._text: Control | None = None  # a textarea or button whose text is collected
        self._select: Control | None = None
        self._option: tuple[str, bool] | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = PageForm(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        common = {"name": a.get("name", ""), "required": "required" in a}
        if tag == "input":
            kind = a.get("type", "text").lower()
            self._form.controls.append(
                Control("input", kind, value=a.get("value", ""), checked="checked" in a, **common)
            )
        elif tag in ("textarea", "button"):
            kind = a.get("type", "submit").lower() if tag == "button" else "textarea"
            self._text = Control(tag, kind, value=a.get("value", ""), **common)
            self._form.controls.append(self._text)
            if tag == "textarea":
                self._text.value = ""
        elif tag == "select":
            self._select = Control("select", "select", value="", **common)
            self._first_option = None
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = (a.get("value", ""), "selected" in a)
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self._select.value = self._first_option
            if "selected" in a:
                self._select.value = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            if self._text.tag == "textarea":
                self._text.value += data
            else:
                self._text.label += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag in ("textarea", "button"):
            if self._text is not None:
                self._text.label = " ".join(self._text.label.split())
                if self._text.tag == "textarea":  # a browser drops the newline after the tag
                    self._text.value = self._text.value.removeprefix("\r").removeprefix("\n")
            self._text = None
        elif tag == "select":
            self._select = None


def post_forms(html: str) -> list[PageForm]:
    """Every form with method="post" on the page, in page order."""
    parser = _Parser()
    parser.feed(html)
    return [f for f in parser.forms if f.method == "post"]
