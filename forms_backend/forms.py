"""The shared base for every form: Dutch messages, CSRF, a honeypot and a minimum fill time.

Forms know nothing about storage; views hand validated data to domain functions. Fields that
every public form needs come from mixins; templates render every field with one macro
(``templates/_forms.html``).
"""

from __future__ import annotations

import functools
import math
import time
import unicodedata
from typing import Any, ClassVar

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import FloatField, HiddenField, SelectMultipleField, StringField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

# Not "vernieuw de pagina": after a POST that would send the old form again. The page that
# says this carries a new token and everything the person typed.
CSRF_MESSAGE = (
    "Het formulier was verlopen of kwam niet van deze site. Wat je hebt ingevuld, staat er"
    " nog: klik nog een keer op de knop om het te versturen."
)
RATE_MESSAGE = (
    "Je hebt dit te vaak geprobeerd. Wacht een paar minuten en klik dan nog een keer op de knop."
    " Wat je hebt ingevuld, staat er nog."
)
SPAM_MESSAGE = (
    "Je formulier is niet verstuurd. Kijk of alles klopt en klik dan nog een keer op de knop."
)
# The messages of the fields that every public form asks for, so each form says the same.
NAME_MISSING = "Vul je naam in."
EMAIL_MISSING = "Vul je e-mailadres in."
EMAIL_INVALID = "Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl."


class _RenderedCSRFTokenField(CSRFTokenField):
    """Signs the token it shows only when the form is rendered.

    WTForms signs a fresh token for every form it builds, also on a POST that succeeds and
    redirects without showing it: an HMAC and a JSON dump per request on the sign-up's hot path.
    Checking the submitted token is unchanged (``validate_csrf_token``).
    """

    current_token: str | None = None

    def process(self, *args: Any, **kwargs: Any) -> None:
        super(CSRFTokenField, self).process(*args, **kwargs)  # not CSRFTokenField's: no signing

    def _value(self) -> str:
        if self.current_token is None:
            self.current_token = self.csrf_impl.generate_csrf_token(self)
        return self.current_token


class _CSRF(_FlaskFormCSRF):
    field_class = _RenderedCSRFTokenField


class BrugForm(FlaskForm):
    """A FlaskForm with WTForms' Dutch messages and a Dutch CSRF error."""

    class Meta:
        locales = ("nl",)
        csrf_class = _CSRF
        # render_field writes "(niet verplicht)" after an optional field's label; a filter
        # form, whose fields are all optional, sets this to False.
        mark_optional = True

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        csrf = getattr(self, "csrf_token", None)
        if csrf is not None and csrf.errors:
            csrf.errors = [CSRF_MESSAGE]
        return valid

    # A short name in the error summary for a field whose label is a whole sentence
    # (a consent checkbox): field name -> name.
    summary_labels: ClassVar[dict[str, str]] = {}

    def page_order(self) -> tuple[str, ...]:
        """The fields in the order the page shows them, when that is not the class's order."""
        return ()

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(field id, "label: message") for the error summary at the top of the form; ("",
        message) for an error of the form itself (CSRF, the start stamp), listed first.

        A label that is a question or a sentence ends with its own punctuation, so no colon
        follows it ("Kun je …? Beantwoord deze vraag.")."""
        items = []
        position = {name: index for index, name in enumerate(self.page_order())}
        # sorted() is stable: the fields the page order leaves out (the form's own: CSRF, the
        # start stamp) come first, in their own order
        for field in sorted(self, key=lambda f: position.get(f.short_name, -1)):
            for message in field.errors:
                if _is_hidden(field):  # the form's own (CSRF, start stamp): about the form
                    items.append(("", message))  # nothing to jump to, no field name
                    continue
                label = self.summary_labels.get(field.short_name, field.label.text).rstrip(" :")
                joint = " " if label.endswith(("?", ".", "!")) else ": "
                items.append((field.id, f"{label}{joint}{message}"))
        return items


def _is_hidden(field: Any) -> bool:
    return getattr(field.widget, "input_type", None) == "hidden"


def choices(pairs: Any) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs or a dict (WTForms 3.4 drops plain tuples)."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(str(value), str(label)) for value, label in items]


class DecimalCommaField(FloatField):
    """A number as Dutch people write it, with a comma ("52,37") or a point ("52.37")."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        raw = str(valuelist[0]).strip().replace(",", ".")
        self.data = None
        if not raw:
            return
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):  # "abc", but also "nan" and "inf", which float() takes
            raise ValueError("Vul een getal in, bijvoorbeeld 52,37.")
        self.data = value


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice (``render_field`` renders them as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _signer() -> URLSafeSerializer:
    return _signer_for(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=4)
def _signer_for(secret_key: str | bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="brug-form-started")


class SpamGuardMixin:
    """Honeypot field plus a signed start time: bots fill everything and post at once.

    A failing check gives a neutral message and keeps what the person typed.
    """

    website = StringField("Laat dit veld leeg", render_kw={"autocomplete": "off", "tabindex": "-1"})
    started = HiddenField()

    def stamp_start(self) -> None:
        self.started.data = _signer().dumps(time.time())

    def validate_website(self, field: Any) -> None:
        if field.data:
            raise ValidationError(SPAM_MESSAGE)

    def validate_started(self, field: Any) -> None:
        try:
            started = float(_signer().loads(field.data or ""))
        except (BadSignature, TypeError, ValueError):
            # A page from before a key change, or a stamp lost on the way: the page shown
            # again carries a fresh one, so that a person's next click can succeed.
            field.data = _signer().dumps(time.time())
            raise ValidationError(SPAM_MESSAGE) from None
        if time.time() - started < float(current_app.config["FORM_MIN_FILL_SECONDS"]):
            raise ValidationError(SPAM_MESSAGE)


_LINE_BREAKS_TO_SPACE = str.maketrans(dict.fromkeys("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029", " "))
_WITHOUT_NEWLINE_AND_TAB = str.maketrans("", "", "\n\t")


def clean_text(value: str | None, *, multiline: bool = False) -> str:
    """Normalise Unicode (NFC), drop control characters and NULs, trim; keep newlines if asked."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value)
    if not multiline:
        # A line break in a one-line field becomes a space: "Jan\r\nBcc" reads "Jan Bcc".
        value = value.translate(_LINE_BREAKS_TO_SPACE)
    # Printable once newlines and tabs are out: no control character to drop (most input).
    if not value.translate(_WITHOUT_NEWLINE_AND_TAB).isprintable():
        allowed = {"\n"} if multiline else set()
        value = "".join(
            ch for ch in value if ch in allowed or unicodedata.category(ch)[0] != "C" or ch == "\t"
        )
    value = value.replace("\t", " ")
    if multiline:
        return "\n".join(line.rstrip() for line in value.replace("\r\n", "\n").split("\n")).strip()
    return " ".join(value.split())


def clean(value: Any) -> Any:
    """Field filter: ``clean_text`` for one-line fields (other values pass unchanged)."""
    return clean_text(value) if isinstance(value, str) else value


def clean_multiline(value: Any) -> Any:
    """Field filter: ``clean_text`` keeping line breaks, for text areas."""
    return clean_text(value, multiline=True) if isinstance(value, str) else value


def single_line(form: Any, field: Any) -> None:
    """Validator: no line breaks or control characters (they would inject mail headers)."""
    if field.data and any(unicodedata.category(ch)[0] == "C" for ch in field.data):
        raise ValidationError("Gebruik geen regeleinden of onzichtbare tekens in dit veld.")
