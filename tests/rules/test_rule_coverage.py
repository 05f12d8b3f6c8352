"""Every rule ID of RULES.md (and of the bundled policies) is covered by tests that name it in
their name or docstring: for a rule with a deadline, at least one test of it firing, one of it
being met, and one of its boundary (last instant "due", first instant "overdue")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scheduler.policies import bundled_names, load_policy
from tests.rules.builders import ALL_RULE_IDS

HERE = Path(__file__).parent
CONSTRAINTS = {"CB-FREQ-FLOOR", "HI-QUALIFIED", "HI-OUTCOME", "HI-AWAY"}  # no deadline of their own


def _tests() -> list[tuple[str, str]]:
    """(name, name + docstring) of every test function in tests/rules."""
    found = []
    for path in sorted(HERE.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                text = f"{node.name} {ast.get_docstring(node) or ''}"
                found.append((node.name, text))
    return found


def _mentions(rule: str, text: str) -> bool:
    return rule in text or rule.lower().replace("-", "_") in text


def test_the_bundled_policies_hold_exactly_the_rule_ids_of_rules_md() -> None:
    ids = {rule for name in bundled_names() for rule in load_policy(name).rules}
    assert ids == ALL_RULE_IDS


@pytest.mark.parametrize("rule", sorted(ALL_RULE_IDS))
def test_rule_is_covered(rule: str) -> None:
    tests = [(name, text) for name, text in _tests() if _mentions(rule, text)]
    assert len(tests) >= 3, (rule, [n for n, _ in tests])
    if rule in CONSTRAINTS:
        return
    names = " ".join(name for name, _ in tests)
    texts = " ".join(text for _, text in tests)
    assert "boundary" in names or "boundary" in texts, rule
    assert "_met" in names, rule
