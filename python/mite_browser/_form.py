"""HTML forms: their fields, filled in by the journey and submitted through the browser."""

from urllib.parse import urlencode

from ._errors import OptionError
from ._urls import url_builder, with_query


def _field_is_disabled(element):
    # A boolean attribute: present is disabled, whatever its value. mite 2.11 required the value
    # "disabled" or "true", so a bare `disabled` (the usual way to write it) was submitted.
    return element.attrs.get("disabled") is not None


class BaseFormField:
    """A named input; its value starts as the element's `value` attribute."""

    def __init__(self, element):
        self.element = element
        self.name = element.attrs.get("name")
        self._value = element.attrs.get("value")
        self._disabled = _field_is_disabled(element)

    @property
    def disabled(self):
        return self._disabled

    def enable(self):
        self._disabled = False

    def disable(self):
        self._disabled = True

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, value):
        self._value = value

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name!r} value={self.value!r} disabled={self.disabled!r}>"


class TextAreaField(BaseFormField):
    """A textarea: its value is its text (mite 2.11 read a `value` attribute textareas lack)."""

    def __init__(self, element):
        super().__init__(element)
        self._value = element.get_text()


class SelectField(BaseFormField):
    """A select: its value starts as the selected option's, else the first option's, as a
    browser's does (mite 2.11 read a `value` attribute selects lack, and sent "None")."""

    def __init__(self, element):
        super().__init__(element)
        self.options = element.find_all("option")
        chosen = [o for o in self.options if o.has_attr("selected")] or self.options[:1]
        if chosen:
            self._value = self._option_value(chosen[-1])

    @staticmethod
    def _option_value(option):
        value = option.get("value")
        return option.get_text() if value is None else value

    def _get_options(self):
        return [self._option_value(o) for o in self.options]


class CheckboxField(BaseFormField):
    """A checkbox; as in mite 2.11 it is submitted unless disabled, and `toggle()` flips
    `_checked`, which submits even a disabled one."""

    def __init__(self, element):
        super().__init__(element)
        self._checked = False

    def toggle(self):
        self._checked = not self._checked
        return self._checked

    @property
    def disabled(self):
        return self._disabled and (not self._checked)


class RadioField:
    """Radio inputs sharing a name: one value, which must be one of theirs."""

    def __init__(self, elements):
        self.elements = elements
        self.name = elements[0].attrs.get("name")
        checked = [e for e in elements if e.has_attr("checked")] or elements[:1]
        self._value = checked[0].attrs.get("value")
        self._disabled = _field_is_disabled(elements[0])
        self.options = [e.get("value") for e in self.elements]

    @property
    def disabled(self):
        return self._disabled

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, value):
        if value in self.options:
            self._value = value
        else:
            raise OptionError(value, self.options)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name!r} value={self.value!r} options={self.options!r} disabled={self.disabled!r}>"


class FileInputField(BaseFormField):
    """A file input: setting `value` adds a file (files are not submitted, as in mite 2.11)."""

    def __init__(self, element):
        super().__init__(element)
        self._value = []

    @BaseFormField.value.setter
    def value(self, file):
        self._value.append(file)


class FakeFormField:
    """A field the page does not have, added by `form[name] = value`."""

    def __init__(self, name, value, disabled=False):
        self.element = None
        self.name = name
        self.value = value
        self.disabled = disabled


def _fields_of(element):
    """The form's fields as field objects, in document order (buttons left out)."""
    fields = element.find_all(["select", "textarea", "input"])
    radio_names = set()
    for field in fields:
        if field.name == "select":
            yield SelectField(field)
        elif field.name == "textarea":
            yield TextAreaField(field)
        else:
            kind = field.attrs.get("type", "text").lower()
            if kind in ("reset", "submit", "button", "image"):
                continue
            if kind == "file":
                yield FileInputField(field)
            elif kind == "radio":
                name = field.attrs.get("name")
                if name in radio_names:
                    continue
                radio_names.add(name)
                yield RadioField([f for f in fields if f.attrs.get("name") == name])
            elif kind == "checkbox":
                yield CheckboxField(field)
            else:
                yield BaseFormField(field)


class Form:
    """A form on a page: `form[name] = value`, then `await form.submit()` for the next page."""

    def __init__(self, element, page):
        self._page = page
        self.element = element
        # mite 2.11's default, though a browser's is GET.
        self.method = element.get("method", "POST").upper()
        self.action = element.get("action")
        self.name = element.get("name", element.get("id"))
        self.fields = {}
        self.files = {}
        for field in _fields_of(element):
            (self.files if isinstance(field, FileInputField) else self.fields)[field.name] = field

    def _values(self):
        """What the form submits: enabled, named fields (a value of None is sent empty)."""
        return {
            name: "" if f.value is None else f.value
            for name, f in self.fields.items()
            if name is not None and not f.disabled
        }

    def _serialize(self):
        """The request body. Files are not sent (mite 2.11's acurl had no multipart uploads)."""
        return {"data": urlencode(self._values())}

    def __getitem__(self, item):
        if result := self.fields.get(item) or self.files.get(item):
            return result
        raise KeyError(f"{item} not in form fields")

    def __delitem__(self, item):
        del self.fields[item]

    def __setitem__(self, item, value):
        if item in self.fields:
            self.fields[item].value = value
        elif item in self.files:
            self.files[item].value = value
        else:
            self.fields[item] = FakeFormField(item, value)

    async def submit(self, base_url="", embedded_res=False, **kwargs):
        """Sends the form to its action (relative to the page, or to `base_url`); returns the
        resulting Page. A GET form sends its fields as the query string, as a browser does."""
        if base_url == "":
            base_url = self._page.response.url
        url = url_builder(base_url, self.action)
        if self.method == "GET":
            return await self._page.browser.request(
                "GET", with_query(url, self._values()), embedded_res=embedded_res, **kwargs
            )
        return await self._page.browser.request(
            self.method, url, embedded_res=embedded_res, **self._serialize(), **kwargs
        )

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name} method={self.method} action={self.action} fields={self.fields} files={self.files}>"
