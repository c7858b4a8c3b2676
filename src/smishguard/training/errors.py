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


class AssignmentTargetNotFound(NotFound):
    """An assignment's target (a group or a department) names nobody we know."""

    code = "assignment_target_not_found"


class InvalidDueDate(TrainingError):
    """An assignment's due date is not a date, or is in the past."""

    code = "invalid_due_date"
