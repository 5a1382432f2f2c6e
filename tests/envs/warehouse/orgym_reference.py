"""OR-Gym InvManagement's period update, transcribed from or_gym/envs/supply_chain/
inventory_management.py (``_STEP``, latest version) with only ``np.Inf`` -> ``np.inf`` and the
demand passed in instead of drawn. OR-Gym itself no longer installs (it needs gym <= 0.19), so
the tests compare learnloop's supply chain against this transcription.
"""

from __future__ import annotations

import numpy as np


class OrGymInvManagement:
    """The state and ``_STEP`` of OR-Gym's InvManagementMasterEnv (defaults = v0)."""

    def __init__(self, backlog: bool = True) -> None:
        self.periods = 30
        self.I0 = [100, 100, 200]
        self.p = 2
        self.r = [1.5, 1.0, 0.75, 0.5]
        self.k = [0.10, 0.075, 0.05, 0.025]
        self.h = [0.15, 0.10, 0.05]
        self.c = [100, 90, 80]
        self.L = [3, 5, 10]
        self.backlog = backlog
        self.alpha = 0.97
        self.init_inv = np.array(list(self.I0))
        self.num_periods = self.periods
        self.unit_price = np.append(self.p, self.r[:-1])
        self.unit_cost = np.array(self.r)
        self.demand_cost = np.array(self.k)
        self.holding_cost = np.append(self.h, 0)
        self.supply_capacity = np.array(list(self.c))
        self.lead_time = np.array(list(self.L))
        self.discount = self.alpha
        self.num_stages = len(self.init_inv) + 1
        periods, m = self.num_periods, self.num_stages
        self.I = np.zeros([periods + 1, m - 1])
        self.T = np.zeros([periods + 1, m - 1])
        self.R = np.zeros([periods, m - 1])
        self.D = np.zeros(periods)
        self.S = np.zeros([periods, m])
        self.B = np.zeros([periods, m])
        self.LS = np.zeros([periods, m])
        self.P = np.zeros(periods)
        self.period = 0
        self.I[0, :] = np.array(self.I0)
        self.T[0, :] = np.zeros(m - 1)

    def step(self, action: np.ndarray, demand: float) -> float:
        R = np.maximum(action, 0).astype(int)
        n = self.period
        L = self.lead_time
        I = self.I[n, :].copy()  # noqa: E741 - OR-Gym's names
        T = self.T[n, :].copy()
        m = self.num_stages
        c = self.supply_capacity
        Im1 = np.append(I[1:], np.inf)
        if n >= 1:
            R = R + self.B[n - 1, 1:]
        Rcopy = R.copy()
        R[R >= c] = c[R >= c]  # noqa: SIM300 - as OR-Gym writes it
        R[R >= Im1] = Im1[R >= Im1]  # noqa: SIM300
        self.R[n, :] = R
        RnL = np.zeros(m - 1)
        for i in range(m - 1):
            if n - L[i] >= 0:
                RnL[i] = self.R[n - L[i], i].copy()
                I[i] = I[i] + RnL[i]
        D0 = demand
        D = D0
        self.D[n] = D0
        if n >= 1:
            D = D0 + self.B[n - 1, 0].copy()
        S0 = min(I[0], D)
        S = np.append(S0, R)
        self.S[n, :] = S
        I = I - S[:-1]  # noqa: E741
        T = T - RnL + R
        self.I[n + 1, :] = I
        self.T[n + 1, :] = T
        U = np.append(D, Rcopy) - S
        if self.backlog:
            B = U
            LS = np.zeros(m)
        else:
            LS = U
            B = np.zeros(m)
        self.B[n, :] = B
        self.LS[n, :] = LS
        p, r, k, h, a = (
            self.unit_price, self.unit_cost, self.demand_cost, self.holding_cost, self.discount
        )  # fmt: skip
        II = np.append(I, 0)
        RR = np.append(R, S[-1])
        P = a**n * np.sum(p * S - (r * RR + k * U + h * II))
        self.P[n] = P
        self.period += 1
        return float(P)
