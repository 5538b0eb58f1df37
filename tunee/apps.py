from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class TuneeConfig(AppConfig):
    """The project's own app (commands, shared pieces). At start-up it makes the directories the service writes to
    (`settings.STARTUP_DIRS`: var/, the static root, the file broker's folders): importing the settings makes none."""

    name = "tunee"
    verbose_name = "Tunee"

    def ready(self):
        for directory in getattr(settings, "STARTUP_DIRS", []):
            Path(directory).mkdir(parents=True, exist_ok=True)
