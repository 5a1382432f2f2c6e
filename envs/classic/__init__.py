"""Classic board games as compiled position rows for AlphaZero's search.

- ``envs.classic.tictactoe``: :class:`TicTacToePositions`, the rules of PettingZoo's
  ``tictactoe_v3`` (3 x 3, actions are the cells row-major, all 8 dihedral symmetries).
- ``envs.classic.connect_four``: :class:`ConnectFourPositions`, the rules of PettingZoo's
  ``connect_four_v3`` (6 x 7, actions are the columns, the left-right flip).

Both implement the ``Positions`` protocol of ``agents.zero.game`` structurally (envs never
import agents) with numba kernels that work on int64 rows of a (games, nodes, state_size) table.
"""
