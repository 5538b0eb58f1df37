from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "works"
    verbose_name = _("Photo songs")

    def ready(self):
        from moderation import subjects

        from . import services

        # Verdicts that arrive later (WeChat's media push) about a work's photo: moderation calls back through this.
        subjects.register("work", services.work_moderation_verdict)
        # ... and about a finished song: a risky song takes its work out of the feed and the share page.
        subjects.register("generation", services.work_audio_verdict)
