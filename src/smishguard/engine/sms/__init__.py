"""Verdicts for SMS texts: links out of text, a text model (ham / spam / smishing), and the lookalike rule.

>>> from smishguard.engine.sms import extract_links
>>> [link.host for link in extract_links("reset it at twilio-sso[.]com now")]
['twilio-sso.com']
"""

from smishguard.engine.sms.dataset import DatasetError
from smishguard.engine.sms.features import HostSignals, LinkFeatures, host_signals, link_features
from smishguard.engine.sms.links import Link, deobfuscate, extract_links, might_contain_link
from smishguard.engine.sms.model import (
    ModelFileError,
    Prediction,
    TextModel,
    TrainingReport,
    load_default_model,
    train,
)
from smishguard.engine.sms.verdict import Reason, TextVerdict, verdict, verdict_many

__all__ = [
    "DatasetError",
    "HostSignals",
    "Link",
    "LinkFeatures",
    "ModelFileError",
    "Prediction",
    "Reason",
    "TextModel",
    "TextVerdict",
    "TrainingReport",
    "deobfuscate",
    "extract_links",
    "host_signals",
    "link_features",
    "load_default_model",
    "might_contain_link",
    "train",
    "verdict",
    "verdict_many",
]
