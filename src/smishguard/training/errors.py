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


# --- simulations (training/simulations.py) ---------------------------------------------------------------------


class InvalidSimulation(TrainingError):
    """A simulation's name, text (a placeholder or a link it may not have), group or window is not acceptable."""

    code = "invalid_simulation"


class SimulationNotReady(Conflict):
    """A launch cannot go ahead: no simulation sender, the sender is the reporting number, no Twilio account."""

    code = "simulation_not_ready"
