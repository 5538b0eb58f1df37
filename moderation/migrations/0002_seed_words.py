"""Seed the word list from moderation/words/*.txt (word | label | outcome); staff keep it in the admin afterwards.
Entries already present (by normalized form) are left alone, so running it on a database with a list is harmless."""

import unicodedata
from pathlib import Path

from django.db import migrations

WORDS_DIR = Path(__file__).resolve().parent.parent / "words"


def normalize(text: str) -> str:  # the same rule as providers.local.normalize, frozen here as migrations should be
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


def entries():
    for path in sorted(WORDS_DIR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [part.strip() for part in line.split("|")]
            word = parts[0]
            label = parts[1] if len(parts) > 1 and parts[1] else "other"
            outcome = parts[2] if len(parts) > 2 and parts[2] in ("risky", "review") else "risky"
            if normalize(word):
                yield word, label, outcome


def seed(apps, schema_editor):
    Word = apps.get_model("moderation", "Word")
    known = set(Word.objects.values_list("normalized", flat=True))
    rows = []
    for word, label, outcome in entries():
        normalized = normalize(word)[:100]
        if normalized not in known:
            known.add(normalized)
            rows.append(Word(word=word, normalized=normalized, label=label, outcome=outcome))
    Word.objects.bulk_create(rows)


def unseed(apps, schema_editor):
    Word = apps.get_model("moderation", "Word")
    Word.objects.filter(normalized__in=[normalize(word)[:100] for word, _, _ in entries()]).delete()


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
