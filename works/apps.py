from django.apps import AppConfig


class WorksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "works"

    def ready(self):
        from moderation import subjects

        from . import services

        # Verdicts that arrive later (WeChat's media push) about a work's photo: moderation calls back through this.
        subjects.register("work", services.work_moderation_verdict)
