from django.apps import AppConfig


class AnnotatorConfig(AppConfig):
    name = "annotator"
    verbose_name = "Annotation"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_save

        from annotator import tokens

        user_logged_out.connect(tokens.on_logged_out, dispatch_uid="annotator.tokens.on_logged_out")
        post_save.connect(tokens.on_user_saved, sender=get_user_model(), dispatch_uid="annotator.tokens.on_user_saved")
