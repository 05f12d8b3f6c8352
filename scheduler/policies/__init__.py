"""The bundled policies, and loading a policy by bundled name or by path to a TOML file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from scheduler.rules.policy import Policy, PolicyError, policy_from_toml

HERE = Path(__file__).parent


def bundled_names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.toml"))


@lru_cache(maxsize=32)
def load_policy(name_or_path: str) -> Policy:
    """A bundled policy by id (`hillingdon`) or a council's own file (`path/to/file.toml`)."""
    bundled = HERE / f"{name_or_path}.toml"
    path = bundled if bundled.is_file() else Path(name_or_path)
    if not path.is_file():
        raise PolicyError(
            f"policy: unknown policy {name_or_path!r} "
            f"(bundled: {', '.join(bundled_names())}; or a path to a .toml file)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy: cannot read {path}: {exc}") from None
    return policy_from_toml(text, str(path))
