"""highway-env's hot spots, computed with numpy: the same numbers, fewer Python loops.

highway-env simulates in plain Python. On ``highway-fast-v0`` (20 cars, 5 simulation steps an
action) a third of a step goes to the simulated drivers looking for the cars ahead of and
behind them (``Road.neighbour_vehicles``: every car projected on a lane one at a time, ~40,000
calls per 300 actions) and a quarter to the kinematics observation (pandas data frames built
row by row). :func:`speed_up` swaps both for numpy versions that compute the same values in
the same order of operations (~1.7x faster steps); on ``racetrack-v0``
:func:`fast_road_layer` draws the occupancy grid's road layer, ~75% of a step there, at once
(~4x). Tests play episodes with and without them and compare every observation, reward and
position. Anything these versions do not cover (curved lanes in the neighbour search, lanes
searched across segments, obstacles, other observation options) falls back to highway-env's
own code.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numpy as np


def after_define_spaces(env: Any, hook: Callable[[], None]) -> None:
    """Run ``hook`` now and after every ``define_spaces`` of ``env`` (highway-env, unwrapped),
    which every reset calls once the new road exists (and rebuilds the observation type in)."""
    define_spaces = env.define_spaces

    def define_spaces_then_hook() -> None:
        define_spaces()
        hook()

    env.define_spaces = define_spaces_then_hook
    hook()


def speed_up(env: Any) -> None:
    """Give ``env`` (highway-env, unwrapped) the numpy kinematics observation and neighbour
    search, now and after every reset."""
    from highway_env.envs.common.observation import KinematicObservation

    fast_kinematics = _fast_kinematics()
    neighbours = _neighbour_search()

    def swap() -> None:
        if type(env.observation_type) is KinematicObservation:
            env.observation_type = fast_kinematics(env, **env.config["observation"])
        if env.road is not None and "neighbour_vehicles" not in vars(env.road):
            env.road.neighbour_vehicles = types.MethodType(neighbours, env.road)

    after_define_spaces(env, swap)


# ---------------------------------------------------------------------------------------------
# The cars ahead and behind
# ---------------------------------------------------------------------------------------------


@functools.cache
def _neighbour_search() -> Callable[..., tuple[Any, Any]]:
    """:func:`neighbour_vehicles` with highway-env's classes imported once, not on each of its
    ~130 calls an action."""
    from highway_env.road.lane import StraightLane
    from highway_env.road.road import Road
    from highway_env.vehicle.objects import Landmark

    def neighbour_vehicles(road: Any, vehicle: Any, lane_index: Any = None) -> tuple[Any, Any]:
        """``Road.neighbour_vehicles`` for a straight lane: the nearest car ahead of
        ``vehicle`` (at or beyond its position along ``lane_index``) and behind it, among the
        road's cars and objects within a metre of the lane's edges, with highway-env's
        tie-breaking (the last of equally near cars ahead, the first behind)."""
        lane_index = lane_index or vehicle.lane_index
        if not lane_index:
            return None, None
        lane = road.network.get_lane(lane_index)
        if road.neighbour_vehicles_connected_lanes or type(lane) is not StraightLane:
            return Road.neighbour_vehicles(road, vehicle, lane_index)
        others = [v for v in road.vehicles + road.objects if v is not vehicle]
        if road.objects:
            others = [v for v in others if not isinstance(v, Landmark)]
        if not others:
            return None, None
        s = lane.local_coordinates(vehicle.position)[0]
        delta = np.array([v.position for v in others]) - lane.start
        s_v, lat_v = _dot(delta, lane.direction), _dot(delta, lane.direction_lateral)
        on_lane = (np.abs(lat_v) <= lane.width / 2 + 1) & (
            (s_v >= -lane.VEHICLE_LENGTH) & (s_v < lane.length + lane.VEHICLE_LENGTH)
        )
        ahead = np.flatnonzero(on_lane & (s <= s_v))
        behind = np.flatnonzero(on_lane & (s_v < s))
        front = rear = None
        if ahead.size:
            nearest = ahead[s_v[ahead] == s_v[ahead].min()]
            front = others[nearest[-1]]
        if behind.size:
            nearest = behind[s_v[behind] == s_v[behind].max()]
            rear = others[nearest[0]]
        return front, rear

    return neighbour_vehicles


def _dot(delta: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Each row of ``delta`` (n, 2) dotted with ``axis`` (2,), in ``np.dot``'s order for two
    numbers (a straight lane's local coordinates, as ``StraightLane.local_coordinates``)."""
    return delta[:, 0] * axis[0] + delta[:, 1] * axis[1]


# ---------------------------------------------------------------------------------------------
# The kinematics observation
# ---------------------------------------------------------------------------------------------

_COLUMNS = ("presence", "x", "y", "vx", "vy")  # the rows :func:`_row` builds


@functools.cache
def _fast_kinematics() -> type:
    """highway-env's KinematicObservation with :func:`kinematics` as its ``observe``."""
    from highway_env.envs.common.observation import KinematicObservation

    class FastKinematics(KinematicObservation):
        def observe(self) -> np.ndarray:
            if not covered(self):
                return super().observe()
            return kinematics(self)

    return FastKinematics


def covered(obs: Any) -> bool:
    """Whether :func:`kinematics` computes ``obs``'s observation (else highway-env does)."""
    return bool(
        obs.env.road
        and not obs.env.road.objects
        and set(obs.features) <= set(_COLUMNS)
        and not obs.absolute
        and obs.order == "sorted"
        and obs.normalize
        and obs.features_range
        and obs.vehicles_count > 1
    )


def kinematics(obs: Any) -> np.ndarray:
    """``KinematicObservation.observe`` without pandas: the observer's row (absolute), then the
    nearest ``vehicles_count - 1`` cars within the perception distance (sorted by distance
    along the observer's lane, relative to it; behind it only with ``see_behind``), each
    feature mapped from its range to [-1, 1] (and clipped), missing rows zero."""
    ego = obs.observer_vehicle
    env = obs.env
    cars = [v for v in env.road.vehicles if v is not ego]
    rows = [_row(ego)]
    if cars:
        position = np.array([v.position for v in cars])
        near = np.linalg.norm(position - ego.position, axis=1) < env.PERCEPTION_DISTANCE
        lane = ego.lane
        along = _along(lane, position) - lane.local_coordinates(ego.position)[0]
        if not obs.see_behind:
            near &= along > -2 * ego.LENGTH
        chosen = np.flatnonzero(near)
        chosen = chosen[np.argsort(np.abs(along[chosen]), kind="stable")]
        origin = rows[0]
        rows += [_row(cars[i]) - origin * [0, 1, 1, 1, 1] for i in chosen[: obs.vehicles_count - 1]]
    table = np.array(rows)
    for feature, (low, high) in obs.features_range.items():
        if feature in _COLUMNS and feature != "presence":
            column = _COLUMNS.index(feature)
            table[:, column] = -1 + (table[:, column] - low) * 2 / (high - low)
            if obs.clip:
                table[:, column] = np.clip(table[:, column], -1, 1)
    out = np.zeros((obs.vehicles_count, len(obs.features)), dtype=np.float32)
    out[: len(table)] = table[:, [_COLUMNS.index(f) for f in obs.features]]
    return out


def _row(vehicle: Any) -> np.ndarray:
    """presence, x, y, vx, vy of ``vehicle``, absolute."""
    velocity = vehicle.velocity
    return np.array([1.0, vehicle.position[0], vehicle.position[1], velocity[0], velocity[1]])


def _along(lane: Any, position: np.ndarray) -> np.ndarray:
    """Longitudinal coordinates of ``position`` (n, 2) on ``lane``."""
    from highway_env.road.lane import StraightLane

    if type(lane) is StraightLane:
        return _dot(position - lane.start, lane.direction)
    return np.array([lane.local_coordinates(p)[0] for p in position])


# ---------------------------------------------------------------------------------------------
# The occupancy grid's road layer, drawn with numpy
# ---------------------------------------------------------------------------------------------


def road_cells(
    grid: Any, observer: Any, lanes: list[Any], perception: float = 100.0
) -> tuple[np.ndarray, np.ndarray]:
    """The (rows, columns) of the cells of ``grid`` (an OccupancyGridObservation) that the
    centre lines of ``lanes`` pass through, around ``observer``.

    The same waypoints as highway-env's ``fill_road_layer_by_lanes`` (every ``grid_step``
    metres of each lane's centre line, within ``perception`` metres of the observer, clipped
    to the lane) and the same cell arithmetic, for all points at once: point by point it took
    ~75% of every racetrack step."""
    spacing = float(np.amin(grid.grid_step))
    position = observer.position
    points = []
    for lane in lanes:
        origin, _ = lane.local_coordinates(position)
        s = np.arange(origin - perception, origin + perception, spacing).clip(0, lane.length)
        points.append(_centre_line(lane, s))
    xy = np.concatenate(points) - position
    if grid.align_to_vehicle_axes:
        c, si = np.cos(observer.heading), np.sin(observer.heading)
        xy = np.stack([c * xy[:, 0] + si * xy[:, 1], -si * xy[:, 0] + c * xy[:, 1]], axis=1)
    rows = np.floor((xy[:, 0] - grid.grid_size[0, 0]) / grid.grid_step[0]).astype(np.intp)
    cols = np.floor((xy[:, 1] - grid.grid_size[1, 0]) / grid.grid_step[1]).astype(np.intp)
    height, width = grid.grid.shape[-2:]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    return rows[inside], cols[inside]


def _centre_line(lane: Any, s: np.ndarray) -> np.ndarray:
    """Points (n, 2) at longitudinal positions ``s`` on ``lane``'s centre line, computed as
    ``lane.position(s, 0)`` computes each."""
    from highway_env.road.lane import CircularLane, StraightLane

    if type(lane) is StraightLane:
        return lane.start + s[:, None] * lane.direction
    if type(lane) is CircularLane:
        phi = lane.direction * s / lane.radius + lane.start_phase
        return lane.center + lane.radius * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    return np.array([lane.position(x, 0) for x in s]).reshape(-1, 2)


@functools.cache
def _fast_grid() -> type:
    """highway-env's OccupancyGridObservation with its road layer from :func:`road_cells`."""
    from highway_env.envs.common.observation import OccupancyGridObservation

    class FastOccupancyGrid(OccupancyGridObservation):
        def fill_road_layer_by_lanes(self, layer_index: int, lane_perception_distance=100):
            graph = self.env.road.network.graph
            lanes = [lane for ends in graph.values() for group in ends.values() for lane in group]
            rows, cols = road_cells(self, self.observer_vehicle, lanes, lane_perception_distance)
            self.grid[layer_index, rows, cols] = 1

    return FastOccupancyGrid


def fast_road_layer(env: Any) -> None:
    """Give ``env`` (highway-env, unwrapped) the occupancy grid of :func:`_fast_grid`, now and
    after every reset (which rebuilds the observation): the same grid, ~4x faster steps."""
    from highway_env.envs.common.observation import OccupancyGridObservation

    fast = _fast_grid()

    def swap() -> None:
        if type(env.observation_type) is OccupancyGridObservation:
            env.observation_type = fast(env, **env.config["observation"])

    after_define_spaces(env, swap)
