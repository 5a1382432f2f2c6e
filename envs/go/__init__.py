"""Go: a rules engine (``envs.go.game``) and environments built on it.

- ``env(**kwargs)`` / ``raw_env``: the two-player PettingZoo AEC env (``envs.go.aec.GoEnv``).
- ``learnloop/Go-v0``: the one-agent Gymnasium view against a fixed opponent
  (``envs.go.single.GoSingleEnv``); ``envs.go.vector.GoVectorEnv`` steps many boards at once.

PettingZoo is imported only when an env is asked for, so the engine, GTP and SGF modules
load without it.
"""

from __future__ import annotations

from typing import Any


def env(**kwargs: Any) -> Any:
    """Return ``GoEnv(**kwargs)`` wrapped in (a fast subclass of) PettingZoo's
    OrderEnforcingWrapper.

    Illegal actions are not wrapped away: ``GoEnv`` raises (or, with
    ``illegal_action="lose"``, ends the game) itself.
    """
    from envs.go.aec import GoEnv, OrderEnforcing

    return OrderEnforcing(GoEnv(**kwargs))


def __getattr__(name: str) -> Any:
    if name in ("raw_env", "GoEnv"):
        from envs.go.aec import GoEnv

        return GoEnv
    raise AttributeError(f"module 'envs.go' has no attribute {name!r}")
