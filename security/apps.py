from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "API security"
    default_auto_field = "django.db.models.BigAutoField"
