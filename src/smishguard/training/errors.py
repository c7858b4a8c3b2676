"""The training app's errors: one narrow exception per failure, turned into a response once per edge."""

from __future__ import annotations

from smishguard.errors import Conflict, NotFound, SmishguardError


class TrainingError(SmishguardError):
    """A training or simulation request that cannot be carried out."""

    code = "training_error"


class ModuleNotFound(NotFound):
    """No such training module."""

    code = "module_not_found"


class SimulationNotFound(NotFound):
    """No such simulation."""

    code = "simulation_not_found"


class SimulationStateConflict(Conflict):
    """The simulation is not in a state that allows this."""

    code = "simulation_state"


# --- modules and quizzes (the modules area) ---------------------------------------------------------------------


class ModuleInvalid(SmishguardError):
    """The module's title, slug, content or pass mark is not valid."""

    code = "module_invalid"


class QuizInvalid(SmishguardError):
    """The quiz is not valid: at least one question, each with two choices or more and its answer among them."""

    code = "quiz_invalid"


class ModuleSlugTaken(Conflict):
    """A module with this short name exists already."""

    code = "module_slug_taken"


class ModuleArchived(Conflict):
    """The module is archived: it can no longer be changed or taken."""

    code = "module_archived"


class ModuleUnchanged(SmishguardError):
    """Nothing changed: no new version was made."""

    code = "module_unchanged"


class QuizAnswersMissing(SmishguardError):
    """Answer every question, then submit."""

    code = "quiz_answers_missing"


class QuizTampered(SmishguardError):
    """The quiz form was not the one this page gave: open the quiz again."""

    code = "quiz_tampered"


# --- simulations (training/simulations.py) ---------------------------------------------------------------------


class InvalidSimulation(TrainingError):
    """A simulation's name, text (a placeholder or a link it may not have), group or window is not acceptable."""

    code = "invalid_simulation"


class SimulationNotReady(Conflict):
    """A launch cannot go ahead: no simulation sender, the sender is the reporting number, no Twilio account."""

    code = "simulation_not_ready"


class AssignmentTargetNotFound(NotFound):
    """An assignment's target (a group or a department) names nobody we know."""

    code = "assignment_target_not_found"


class InvalidDueDate(TrainingError):
    """An assignment's due date is not a date, or is in the past."""

    code = "invalid_due_date"
