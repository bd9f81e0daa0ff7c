"""The project's errors, in one hierarchy: catch ``PlaybooksError`` for all of them.

``InputError`` is a fault in what the caller gave (a parameter, a file, a recipe): its message names
what is wrong and how to fix it, and the CLI prints it as one line. Each area has its subclass.
``Failure`` is work that stopped though its input was valid (a solver, a notebook, an interrupt).
"""


class PlaybooksError(Exception):
    """Any error the project raises on purpose."""


class InputError(PlaybooksError, ValueError):
    """A fault in the caller's input, told in words that name it and the fix."""


class WorldInputError(InputError):
    """A scenario, world parameter or plan given to the synthetic world."""


class DataInputError(InputError):
    """Own data: the mapping, a file, a column or rows that break the contract."""


class ModelInputError(InputError):
    """Input a model cannot be fitted or scored on."""


class DecisionInputError(InputError):
    """Input to a decision: a contact plan's values or caps, trigger rules."""


class RunInputError(InputError):
    """A playbook, a ``--set`` value, an output folder or a manifest."""


class ExerciseInputError(InputError):
    """A learner's answer to an exercise that its grader cannot grade (wrong type, unknown customers,
    a plan breaking consent or the budget)."""


class Failure(PlaybooksError, RuntimeError):
    """Work that stopped although its input was valid."""
