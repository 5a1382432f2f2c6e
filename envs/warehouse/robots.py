"""Multi-robot order picking as a PettingZoo ``ParallelEnv`` (RWARE's task, with PettingZoo's API).

Robots fetch requested shelves, carry them to a goal, and put them back on a free slot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from envs.warehouse.core import STATE_PLANES, Warehouses
from envs.warehouse.layout import DIFFICULTIES, Layout, named_layout, parse_layout, render_ascii
from envs.warehouse.shaping import JobShaping

ACTIONS = ("NOOP", "FORWARD", "LEFT", "RIGHT", "TOGGLE_LOAD")
RENDER_MODES = ("ansi", "rgb_array")


def resolve_layout(size: str, layout: str | Layout | None) -> Layout:
    """The floor plan: ``layout`` (an ASCII map or a Layout) if given, else the named size."""
    if layout is None:
        return named_layout(size)
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, str):
        return parse_layout(layout)
    raise ValueError(f"layout must be an ASCII map, a Layout or None, got {type(layout).__name__}")


def queue_length(n_robots: int, difficulty: str, request_queue: int | None) -> int:
    """Requested shelves at a time: explicit, or RWARE's ``int(n_robots * factor)``."""
    if request_queue is not None:
        return request_queue
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {tuple(DIFFICULTIES)}, got {difficulty!r}")
    return max(1, int(n_robots * DIFFICULTIES[difficulty]))


class RobotsEnv(ParallelEnv):
    """Robots ``robot_0 .. robot_{N-1}`` deliver requested shelves in a warehouse.

    ## Actions
    ``Discrete(5)``: 0 NOOP, 1 FORWARD, 2 LEFT (turn), 3 RIGHT (turn), 4 TOGGLE_LOAD (lift the
    shelf overhead, or put the carried shelf down on a slot). ``infos[agent]["action_mask"]``
    (int8, 5) marks the actions that can change something; the others act as NOOP. With
    ``job_masks=True`` it also masks TOGGLE_LOAD unless it serves a job: lifting a requested
    shelf, or putting down a shelf that is not requested (``Warehouses.job_masks``).

    ## Observations
    A float32 vector per robot (71 values for ``sensor_range=1``), RWARE's layout: its x, y,
    carrying, heading one-hot (up, down, left, right), on a corridor; then for each cell of the
    (2r+1)^2 window in reading order: a robot, its heading one-hot, a shelf, the shelf is
    requested. ``rules="learnloop"`` scales x and y to [0, 1] and gives an empty cell a zero
    heading; ``rules="rware"`` keeps RWARE's raw coordinates and its "up" for empty cells.
    ``observe_targets=True`` appends 7 values: carrying a requested shelf, and the offsets to
    the nearest resting request, goal and free slot in the robot's own frame (cells ahead,
    cells to the right; divided by the map's longer side less one).
    ``observe_paths=True`` appends 6 values about the robot's job (as the greedy controller
    assigns it: deliver its request to a goal, put another shelf back on a free slot, or, when
    empty, fetch the resting request that the closest robot-request pairs leave it): carrying a
    requested shelf, has a job, steps to the job's cell (turns count; divided by 2 * (H + W)),
    and how those steps change after FORWARD, LEFT and RIGHT (-1, 0 or +1).
    ``state()`` is a (10 * H * W,) float32 vector of global planes for centralised critics
    (shelf, requested, robot, loaded, heading x4, goal, corridor; ``state_shape`` unflattens).

    ## Rewards
    ``reward="individual"``: 1.0 to the robot that delivers; ``"global"``: 1.0 to every robot
    per delivery; ``"two_stage"``: 0.5 on delivery and 0.5 when that robot puts the shelf down.
    ``shaping > 0`` adds potential-based shaping by each robot's progress through its job,
    ``shaping * (shaping_gamma * phi(s') - phi(s))``, on every step but an episode's last
    (``envs.warehouse.shaping``); ``shaping_gamma`` should be the learner's discount.

    ## Episode end
    Never terminates (the warehouse runs on); ``truncated`` after ``max_steps`` steps, or after
    ``max_inactivity_steps`` steps without a delivery when that is set.

    ## Arguments
    ``size`` (tiny, small, medium, large), ``n_robots``, ``difficulty`` (easy, normal, hard:
    requests = 2x, 1x, 0.5x robots) or ``request_queue``, ``layout`` (an ASCII map, see
    ``envs.warehouse.layout``), ``rules`` (learnloop, rware), ``reward``, ``sensor_range``,
    ``observe_targets``, ``observe_paths``, ``max_steps``, ``max_inactivity_steps``,
    ``order_lines`` (requests per customer order), ``seconds_per_step`` (for the pick rate),
    ``render_mode``; options that change the problem a learner faces: ``job_masks``,
    ``shaping``, ``shaping_gamma`` (the defaults leave it as RWARE's).

    ## Orders
    Requests are grouped into orders of ``order_lines`` lines in the order they are made;
    ``orders_completed`` counts orders whose lines were all delivered and ``pick_rate()`` gives
    order lines delivered per hour. The last step's infos carry an ``episode`` summary.

    ## Version history
    v0: first version; ``rules="rware"`` matches rware 2.0.0 step for step. ``job_masks``,
    ``shaping`` and ``shaping_gamma`` were added later, off by default (moved here from the
    SB3 training path, so that every backend trains the same env).
    """

    metadata = {"name": "warehouse_robots_v0", "render_modes": list(RENDER_MODES), "render_fps": 8}

    def __init__(
        self,
        size: str = "tiny",
        n_robots: int | None = None,
        difficulty: str = "normal",
        request_queue: int | None = None,
        layout: str | Layout | None = None,
        rules: str = "learnloop",
        reward: str = "individual",
        sensor_range: int = 1,
        observe_targets: bool = False,
        observe_paths: bool = False,
        max_steps: int = 500,
        max_inactivity_steps: int | None = None,
        order_lines: int = 1,
        seconds_per_step: float = 1.0,
        render_mode: str | None = None,
        job_masks: bool = False,
        shaping: float = 0.0,
        shaping_gamma: float = 1.0,
    ) -> None:
        plan = resolve_layout(size, layout)
        if n_robots is None:
            n_robots = len(plan.robots) or 2
        if plan.robots and n_robots != len(plan.robots):
            raise ValueError(f"n_robots={n_robots} but the layout places {len(plan.robots)}")
        if request_queue is None and plan.requested:
            request_queue = len(plan.requested)
        queue = queue_length(n_robots, difficulty, request_queue)
        self.core = Warehouses(
            plan,
            n_robots,
            queue,
            1,
            rules,
            reward,
            sensor_range,
            observe_targets,
            order_lines,
            observe_paths,
        )
        if not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
        if max_inactivity_steps is not None and max_inactivity_steps < 1:
            raise ValueError(f"max_inactivity_steps must be >= 1, got {max_inactivity_steps!r}")
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(
                f"render_mode must be None or one of {RENDER_MODES}, got {render_mode!r}"
            )
        if not seconds_per_step > 0:
            raise ValueError(f"seconds_per_step must be > 0, got {seconds_per_step!r}")
        self.layout, self.rules = plan, rules
        self.max_steps, self.max_inactivity_steps = max_steps, max_inactivity_steps
        self.seconds_per_step, self.render_mode = seconds_per_step, render_mode
        self.possible_agents = [f"robot_{i}" for i in range(n_robots)]
        self.agents: list[str] = []
        low, high = self.core.observation_bounds()
        self._observation_space = spaces.Box(low, high, dtype=np.float32)
        self._action_space = spaces.Discrete(len(ACTIONS))
        self.state_shape = (STATE_PLANES, plan.height, plan.width)
        self.state_space = spaces.Box(0.0, 1.0, (int(np.prod(self.state_shape)),), np.float32)
        self.np_random, _ = seeding.np_random()
        self.steps = self._idle_steps = 0
        self._actions = np.zeros((1, n_robots), dtype=np.int64)
        self.job_masks = bool(job_masks)
        self.shaping = JobShaping(shaping, shaping_gamma)

    def observation_space(self, agent: str) -> spaces.Box:
        """The observation space of ``agent``: one shared object, as PettingZoo asks."""
        return self._observation_space

    def action_space(self, agent: str) -> spaces.Discrete:
        """The action space of ``agent`` (the same for every robot)."""
        return self._action_space

    @property
    def deliveries(self) -> int:
        """Shelves delivered this episode (order lines picked)."""
        return int(self.core.deliveries[0])

    @property
    def orders_completed(self) -> int:
        """Orders whose lines were all delivered this episode."""
        return int(self.core.orders_completed[0])

    def pick_rate(self) -> float:
        """Order lines delivered per hour of simulated time (``seconds_per_step`` per step)."""
        hours = max(self.steps, 1) * self.seconds_per_step / 3600.0
        return self.deliveries / hours

    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """Start an episode; ``options`` may fix ``robots`` and ``requests`` (see Warehouses)."""
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        self.core.reset(0, self.np_random, options)
        self.agents = list(self.possible_agents)
        self.steps = self._idle_steps = 0
        if self.shaping.weight:
            self.shaping.start(self.core)
        masks = self.action_masks()
        observations = self.core.observe()[0]
        return (
            dict(zip(self.agents, observations, strict=True)),
            {a: {"action_mask": m} for a, m in zip(self.agents, masks, strict=True)},
        )

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        """Advance all robots at once; a live robot missing from ``actions`` does NOOP."""
        if not self.agents:
            raise ValueError("step() called after the episode ended; call reset() first")
        agents = self.agents
        chosen = [actions.get(agent, 0) for agent in agents]
        if None in chosen:  # the AEC wrapper passes None for robots whose episode ended
            chosen = [0 if action is None else action for action in chosen]
        if min(chosen) < 0 or max(chosen) > 4:
            bad = {a: v for a, v in zip(agents, chosen, strict=True) if not 0 <= v <= 4}
            raise ValueError(f"actions must be 0-4 (NOOP .. TOGGLE_LOAD), got {bad}")
        self._actions[0] = chosen
        rewards = self.core.step(self._actions, self.np_random).copy()
        self.steps += 1
        truncated = self.steps >= self.max_steps
        if self.max_inactivity_steps is not None:
            self._idle_steps = 0 if self.core.pending[0] else self._idle_steps + 1
            truncated = truncated or self._idle_steps >= self.max_inactivity_steps
        if self.shaping.weight:
            self.shaping.shape(self.core, rewards, np.array([truncated]))
        masks = self.action_masks()
        infos = {a: {"action_mask": m} for a, m in zip(agents, masks, strict=True)}
        if truncated:
            summary = self.summary()
            for info in infos.values():
                info["episode"] = summary
            self.agents = []
        return (
            dict(zip(agents, self.core.observe()[0], strict=True)),
            dict(zip(agents, rewards[0].tolist(), strict=True)),
            dict.fromkeys(agents, False),
            dict.fromkeys(agents, truncated),
            infos,
        )

    def summary(self) -> dict[str, float]:
        """Episode counters: steps, deliveries, orders completed, pick rate per hour."""
        return {
            "steps": float(self.steps),
            "deliveries": float(self.deliveries),
            "orders_completed": float(self.orders_completed),
            "pick_rate": self.pick_rate(),
        }

    def state(self) -> np.ndarray:
        """The global state vector (see the class docstring)."""
        return self.core.global_state()[0].reshape(-1)

    def action_masks(self) -> np.ndarray:
        """(N, 5) int8 masks of every robot (also given in infos; job masks with
        ``job_masks=True``)."""
        return (self.core.job_masks() if self.job_masks else self.core.action_masks())[0]

    def render(self) -> str | np.ndarray | None:
        """``ansi``: the ASCII map of the state; ``rgb_array``: an RGB image."""
        if self.render_mode is None:
            return None
        core = self.core
        loaded = core.shelf[0] >= 0
        if self.render_mode == "ansi":
            shelf_cells = np.stack([core.shelf_x[0], core.shelf_y[0]], axis=1)
            robot_cells = np.stack([core.x[0], core.y[0]], axis=1)
            return render_ascii(
                self.layout, shelf_cells, core.requested[0], robot_cells, core.heading[0], loaded
            )
        from envs.warehouse.render import render_rgb

        return render_rgb(
            core.corridor, core.goals, core.shelf_grid[0], core.requested[0], core.x[0],
            core.y[0], core.heading[0], loaded,
        )  # fmt: skip

    def close(self) -> None:
        """Nothing to release."""


def parallel_env(**kwargs: Any) -> RobotsEnv:
    """The robots warehouse as a PettingZoo ParallelEnv."""
    return RobotsEnv(**kwargs)


def env(**kwargs: Any) -> Any:
    """The robots warehouse as a PettingZoo AEC env (robots act in turn; the step happens
    when the last one has acted), wrapped in PettingZoo's order enforcing."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(RobotsEnv(**kwargs))


raw_env = RobotsEnv
