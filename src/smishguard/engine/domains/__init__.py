"""Lookalike domains of protected brands (pure Python, no Django).

>>> m = LookalikeMatcher([Brand("Twilio", ("twilio.com",))])
>>> m.check("twilio-okta.com").techniques
('keyword',)
"""

from smishguard.engine.domains.brands import DEFAULT_KEYWORDS, Brand, load_brand_config
from smishguard.engine.domains.errors import BrandConfigError, InvalidDomain
from smishguard.engine.domains.hosts import normalise_host, registrable_domain
from smishguard.engine.domains.matcher import TECHNIQUES, DomainResult, LookalikeMatcher

__all__ = [
    "DEFAULT_KEYWORDS",
    "TECHNIQUES",
    "Brand",
    "BrandConfigError",
    "DomainResult",
    "InvalidDomain",
    "LookalikeMatcher",
    "load_brand_config",
    "normalise_host",
    "registrable_domain",
]
