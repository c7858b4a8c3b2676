"""The function behind `smishguard model train --data DIR [--out FILE]`."""

from pathlib import Path

import pytest
from text_models import assert_same_answers, assert_tolerance_tells_apart

from smishguard.engine.sms import DatasetError, TextModel, load_default_model
from smishguard.engine.sms.cli_support import train_command
from smishguard.engine.sms.model import DEFAULT_SEED


def test_train_command_writes_a_loadable_model(
    sms_data_dir: Path, tmp_path: Path, heldout_texts: list[str], nearby_model
) -> None:
    out = tmp_path / "model.skops"
    figures = train_command(str(sms_data_dir.parent), str(out), DEFAULT_SEED)  # the data folder works too
    assert out.is_file()
    assert figures["model_path"] == str(out)
    assert figures["model_bytes"] == out.stat().st_size
    assert set(figures["heldout"]["per_class"]) == {"ham", "spam", "smishing"}
    assert figures["smishtank"]["n"] > 1000
    model = TextModel.load(out)
    # The shipped model again: labels exactly, probabilities within a tolerance that tells another model apart.
    texts = ["reset your password at twilio-sso.com", "see you at 6", *heldout_texts]
    assert_same_answers(load_default_model(), model, texts)
    assert_tolerance_tells_apart(model, nearby_model, texts)


def test_train_command_refuses_a_folder_without_data(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no SMS data"):
        train_command(str(tmp_path), str(tmp_path / "m.skops"), 1)
