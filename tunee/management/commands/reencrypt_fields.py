"""Rewrite every encrypted field under the first of FIELD_ENCRYPTION_KEYS (key rotation, tunee/crypto.py).

Rotate: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy, run this command, then
remove the old keys. Rows are rewritten in batches, each under a row lock; running it twice is harmless.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from tunee.crypto import EncryptedTextField, Token, rotate

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first FIELD_ENCRYPTION_KEYS key"

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]
            if not fields:
                continue
            for field in fields:
                count = self._rotate(model, field)
                total += count
                self.stdout.write(f"{model._meta.label}.{field.name}: {count} value(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"{total} value(s) re-encrypted"))

    def _rotate(self, model, field) -> int:
        count = 0
        last_pk = None
        while True:
            with transaction.atomic():
                rows = (
                    model._default_manager.select_for_update()
                    .exclude(**{field.name: ""})
                    .exclude(**{f"{field.name}__isnull": True})
                )
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.order_by("pk").values_list("pk", Cast(field.name, output_field=TextField()))[:BATCH])
                if not batch:
                    return count
                for pk, token in batch:
                    # MultiFernet.rotate: decrypted by the key that made it, encrypted under the first one.
                    model._default_manager.filter(pk=pk).update(**{field.name: Token(rotate(token))})
                    count += 1
                last_pk = batch[-1][0]
