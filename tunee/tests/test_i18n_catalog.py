"""The admin console's translations (locale/zh_Hans/LC_MESSAGES/django.po, English source strings).

Every app, model, field, help text, choice, admin action, fieldset, filter and column of our apps has a Chinese
name; the catalog has no untranslated or fuzzy entry and its compiled .mo is the .po's; and the catalog changes no
message Django or DRF already translates, so the API's messages (tunee/api/i18n.T pairs and DRF's own) keep the
language they had.
"""

from pathlib import Path

import django
import polib
import pytest
import rest_framework
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.utils import translation

CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Names that are the same in every language: the languages' own names (as in settings.LANGUAGES) and brands.
SAME_IN_EVERY_LANGUAGE = {name for _code, name in settings.LANGUAGES} | {"English", "简体中文", "iOS", "Android"}


@pytest.fixture(scope="module")
def catalog():
    return polib.pofile(str(CATALOG))


def our_apps():
    base = Path(settings.BASE_DIR).resolve()
    return [
        config
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(base) and ".venv" not in Path(config.path).parts
    ]


def model_strings():
    """(where, text) for every name of our apps, models, fields and choices."""
    for config in our_apps():
        if next(config.get_models(), None) is not None:  # an app without models is never shown
            yield config.label, config.verbose_name
        for model in config.get_models():
            meta = model._meta
            yield meta.label, meta.verbose_name
            yield f"{meta.label} (plural)", meta.verbose_name_plural
            for field in meta.get_fields():
                if field.auto_created and not field.concrete:
                    continue  # the reverse side of a relation: named on the model that declares it
                where = f"{meta.label}.{field.name}"
                yield where, field.verbose_name
                if field.help_text:
                    yield f"{where} help", field.help_text
                for value, label in field.flatchoices:
                    yield f"{where}={value}", label


def admin_strings():
    """(where, text) for the actions, fieldsets, filters and columns of our apps' admin pages."""
    labels = {config.label for config in our_apps()}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in labels:
            continue
        where = f"admin {model._meta.label}"
        for action in model_admin.actions or ():
            function = getattr(model_admin, action) if isinstance(action, str) else action
            yield f"{where} action {action}", getattr(function, "short_description", action)
        for title, _options in model_admin.fieldsets or ():
            if title:
                yield f"{where} fieldset", title
        for list_filter in model_admin.list_filter or ():
            title = getattr(list_filter, "title", None)
            if isinstance(list_filter, type) and title:
                yield f"{where} filter", title
        for column in model_admin.list_display or ():
            if column != "__str__" and not callable(column):
                yield f"{where} column {column}", label_for_field(column, model, model_admin)


def untranslated(strings, catalog) -> list[str]:
    """What shows the same text in English and Chinese without the catalog saying so (e.g. "ID")."""
    same_in_catalog = {entry.msgid for entry in catalog if entry.translated() and entry.msgid == entry.msgstr}
    out = []
    for where, text in strings:
        with translation.override("en"):
            english = str(text)
        with translation.override("zh-hans"):
            chinese = str(text)
        if english == chinese and english not in same_in_catalog and english not in SAME_IN_EVERY_LANGUAGE:
            out.append(f"{where}: {english!r}")
    return out


def test_every_model_field_and_choice_of_our_apps_has_a_chinese_name(catalog):
    assert untranslated(model_strings(), catalog) == []


def test_every_action_fieldset_filter_and_column_of_the_admin_has_a_chinese_name(catalog):
    assert untranslated(admin_strings(), catalog) == []


def test_the_names_are_english_in_english():
    from payments.models import Order

    with translation.override("en"):
        assert str(Order._meta.verbose_name_plural) == "orders"
        assert str(apps.get_app_config("membership").get_model("PointsEntry")._meta.verbose_name_plural) == (
            "points entries"
        )
        assert str(Order.Status.PENDING.label) == "awaiting payment"
    with translation.override("zh-hans"):
        assert str(Order._meta.verbose_name_plural) == "订单"
        assert str(Order.Status.PENDING.label) == "待支付"


def test_the_catalog_has_no_untranslated_or_fuzzy_entry(catalog):
    assert [entry.msgid for entry in catalog.untranslated_entries()] == []
    assert [entry.msgid for entry in catalog.fuzzy_entries()] == []
    assert not catalog.metadata_is_fuzzy


def _pairs(entries):
    return {
        (entry.msgctxt, entry.msgid, entry.msgstr or tuple(sorted(entry.msgstr_plural.items())))
        for entry in entries
        if entry.msgid and not entry.obsolete
    }


def test_the_compiled_catalog_is_the_source_catalog(catalog):
    compiled = polib.mofile(str(CATALOG.with_suffix(".mo")))
    assert _pairs(compiled) == _pairs(catalog.translated_entries())


def test_the_catalog_changes_no_message_django_or_drf_translate():
    """Project catalogs (LOCALE_PATHS) win over every app's: one of ours with a msgid of Django's or DRF's would
    change their text, in the admin and in the API's validation messages."""
    theirs: dict[str, set[str]] = {}
    for package in (django, rest_framework):
        for path in Path(package.__file__).parent.glob("**/locale/zh_Hans/LC_MESSAGES/django.mo"):
            for entry in polib.mofile(str(path)):
                if entry.msgid and not entry.msgctxt and entry.msgstr:
                    theirs.setdefault(entry.msgid, set()).add(entry.msgstr)
    ours = polib.pofile(str(CATALOG))
    assert theirs, "Django's and DRF's catalogs were not found"
    assert {
        entry.msgid: (entry.msgstr, theirs[entry.msgid])
        for entry in ours
        if entry.msgid in theirs and theirs[entry.msgid] != {entry.msgstr}
    } == {}


@pytest.mark.django_db
def test_api_messages_keep_their_language(api):
    """Chinese by default, English when asked, as before: the contract's messages and DRF's field messages."""
    body = api.post("/api/auth/send-code", {}, format="json").json()
    assert body["message"] == "请求参数错误"
    assert body["details"]["phone"] == ["该字段是必填项。"]

    body = api.post("/api/auth/send-code", {}, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["message"] == "Invalid parameters"
    assert body["details"]["phone"] == ["This field is required."]
