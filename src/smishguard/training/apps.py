from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "smishguard.training"
    label = "training"
    verbose_name = "Awareness training and simulations"

    def ready(self) -> None:
        from smishguard.training import hooks

        hooks.register_all()
