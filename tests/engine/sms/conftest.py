"""Fixtures for the SMS engine tests: where the shared labelled data lives."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def shared_data_dir() -> Path:
    """$SMISHGUARD_SHARED_DATA if set, else ../shared/data beside the repository."""
    env = os.environ.get("SMISHGUARD_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def sms_data_dir() -> Path:
    path = shared_data_dir() / "sms"
    assert (path / "uci_sms_spam_collection.tsv").is_file(), f"shared SMS data not found in {path}"
    return path


@pytest.fixture(scope="session")
def heldout_texts(sms_data_dir: Path) -> list[str]:
    """The texts the default seed's split holds out of training."""
    from smishguard.engine.sms.dataset import load_training_examples, split_examples
    from smishguard.engine.sms.model import DEFAULT_SEED

    examples, _ = load_training_examples(sms_data_dir)
    _, heldout = split_examples(examples, seed=DEFAULT_SEED)
    return [e.text for e in heldout]


@pytest.fixture(scope="session")
def nearby_model(sms_data_dir: Path):
    """A model fitted like the shipped one on its training split less the last three examples: close to it, yet
    another model, which a comparison of two models' probabilities must tell apart (tests/support/text_models.py)."""
    from smishguard.engine.sms.dataset import load_training_examples, split_examples
    from smishguard.engine.sms.model import DEFAULT_SEED, fit

    examples, _ = load_training_examples(sms_data_dir)
    training, _ = split_examples(examples, seed=DEFAULT_SEED)
    return fit(training[:-3], seed=DEFAULT_SEED)
