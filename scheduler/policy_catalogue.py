"""The bundled policies as storage takes them (storage.caseload.PolicyCatalogue): an import or an
export is given them by its caller, so that storage never loads a policy itself."""

from __future__ import annotations

from scheduler.policies import bundled_names, load_policy
from storage.caseload import PolicyCatalogue


def bundled_catalogue() -> PolicyCatalogue:
    """Every bundled policy by name, and a council's own policy file by path (load_policy)."""
    return PolicyCatalogue(names=frozenset(bundled_names()), load=load_policy)
