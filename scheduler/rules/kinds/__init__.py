"""Every kind of rule the engine implements, one module per family (mirroring tests/rules/):

- `visits.py`: visits on time (CB-VISIT-10WD, HI-VISIT-20WD, HI-INITIAL-1WK, HI-BEFORE-*)
- `at_the_visit.py`: what a visit saw (CB-BEDROOM-ALT, CB-SEEN-ALONE, CB-BABY-AWAKE, HI-SEEN-ALONE)
- `records.py`: the visit record (CB-RECORD, HI-RECORD-24H, HI-NOONE-NOTE, CB-RISK-WORSE, CB-NEW-INJURY)
- `not_seen.py`: when the child is not seen (CB-NOTSEEN-*, CB-ACCESS, CB-20CD-LSW, CB-30WD-ANY,
  HI-NOTSEEN-REVISIT)
- `plan.py`: the plan itself and constraints (CB-FREQ-*, CB-STEPDOWN, HI-QUALIFIED, HI-OUTCOME, HI-AWAY)

Each kind is a frozen parameters dataclass and a function, registered together in `registry.KINDS`.
"""

from scheduler.rules.kinds import at_the_visit, not_seen, plan, records, visits
from scheduler.rules.kinds.registry import KINDS, Kind, kind

__all__ = ["KINDS", "Kind", "at_the_visit", "kind", "not_seen", "plan", "records", "visits"]
