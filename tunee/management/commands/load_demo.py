"""Load the demo data of every app (idempotent): each app may have a `demo.py` with `load(stdout) -> list[str]`.

The lines returned are what a newcomer needs to try the service (accounts, passwords, pages); they are printed
and kept in var/demo.txt so that `make run` can show them beside the URLs. Accounts with published passwords are
made only while DEBUG is on; with DEBUG off each app does only what is safe and says what it skipped.
"""

import importlib

from django.apps import apps
from django.conf import settings
from django.core.management import BaseCommand


class Command(BaseCommand):
    help = "Load demo data for a local installation (safe to run again)."

    def handle(self, *args, **options):
        lines: list[str] = []
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            lines.extend(module.load() or [])
        text = "\n".join(f"  {line}" for line in lines)
        (settings.VAR_DIR / "demo.txt").write_text(("\n  Demo:\n" + text + "\n") if lines else "")
        if lines:
            self.stdout.write(text)
