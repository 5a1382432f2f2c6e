"""AlphaZero's settings: one typed section, described once (``--help`` shows these lines)."""

from __future__ import annotations

from dataclasses import dataclass

from agents.settings import describe
from agents.zero.tree import SearchSettings


@dataclass
class ZeroConfig:
    """Self-play, search and learning of ``algo.name=alphazero``."""

    games: int = describe("Self-play games played at once per process (one network batch).", 128,
                          min=1)  # fmt: skip
    search: str = describe(
        "Self-play search: 'gumbel' (Gumbel AlphaZero's root, sequential halving; improves the "
        "policy with few simulations) or 'puct' (AlphaZero's, with Dirichlet root noise).",
        "gumbel",
        choices=("gumbel", "puct"),
    )
    simulations: int = describe(
        "Simulations of a full self-play search (its policy becomes a training target).", 32,
        min=1,
    )  # fmt: skip
    fast_simulations: int = describe(
        "Simulations of a fast search (playout cap randomisation; its move is not recorded).", 8,
        min=1,
    )  # fmt: skip
    full_share: float = describe(
        "Share of self-play moves searched in full and recorded (1: every move).", 0.25,
        min=0.0, max=1.0,
    )  # fmt: skip
    considered: int = describe("gumbel: moves sampled at the root.", 16, min=1)
    c_scale: float = describe("gumbel: scale of sigma(q) = (50 + max N) * c_scale * q.", 0.1,
                              min=0.0)  # fmt: skip
    c_puct: float = describe("puct: exploration constant.", 1.5, min=0.0)
    dirichlet_alpha: float = describe("puct: Dirichlet noise concentration at the root.", 0.3,
                                      min=0.0)  # fmt: skip
    noise_fraction: float = describe("puct: share of the noise in the root priors.", 0.25,
                                     min=0.0, max=1.0)  # fmt: skip
    replay_size: int = describe("Positions kept in the replay buffer (the newest).", 100_000,
                                min=1)  # fmt: skip
    min_replay: int = describe("Positions recorded before training starts.", 2_000, min=1)
    train_ratio: float = describe(
        "Positions drawn for training per position recorded by self-play (replay ratio).", 4.0,
        min=0.0,
    )  # fmt: skip
    batch_size: int = describe("Positions per gradient step.", 256, min=1)
    learning_rate: float = describe("AdamW step size.", 2e-3, min=0.0)
    lr_schedule: str = describe("'constant', or 'linear' decay to a tenth over the run.",
                                "linear", choices=("constant", "linear"))  # fmt: skip
    weight_decay: float = describe("AdamW weight decay.", 1e-4, min=0.0)
    ema: float = describe(
        "Decay per gradient step of an exponential moving average of the weights (0: off). "
        "The average is the trained agent: evaluation, play, gtp and checkpoints' network; "
        "self-play keeps the newest weights.",
        0.0, min=0.0, max=0.99999,
    )  # fmt: skip
    value_weight: float = describe("Weight of the value loss.", 1.0, min=0.0)
    value_q: float = describe(
        "Share of the full search's root value in the value target, the rest the game's result "
        "(0: the result alone, AlphaZero's; a search's estimate is less noisy than one game's "
        "outcome, and biased where the network is wrong).",
        0.0, min=0.0, max=1.0,
    )  # fmt: skip
    ownership_weight: float = describe(
        "Weight of the ownership loss (games with territory; 0: off).", 1.0, min=0.0
    )
    score_weight: float = describe(
        "Weight of the score-margin loss (games with territory; 0: off).", 0.5, min=0.0
    )
    augment: bool = describe("Train on random symmetries of the board.", True)
    refresh_every: int = describe(
        "Gradient steps between copies of the newest weights into self-play.", 40, min=1
    )
    learner_selfplay: bool = describe(
        "With ray.num_selfplay_workers > 0: the learner's process also plays between gradient "
        "steps (off for a GPU learner whose time is better spent learning).",
        True,
    )
    opening_moves: int = describe(
        "Self-play games begin with 0 to this many uniformly random legal moves (not "
        "recorded), as evaluation games begin (eval.opening_moves), so the network also meets "
        "positions its own play avoids (0: every game from the initial position).",
        0, min=0,
    )  # fmt: skip
    precision: str = describe(
        "Number format of self-play's network calls and the learner's passes: 'bfloat16' "
        "(weights and activations in bfloat16 for self-play, torch autocast for training; "
        "~2x the positions per second on CPUs with native bfloat16, AVX-512 BF16 or AMX, "
        "slower elsewhere), 'float32', or 'auto': bfloat16 on a CPU with native bfloat16, "
        "float32 otherwise (GPUs included). Evaluation and play use float32.",
        "auto",
        choices=("auto", "float32", "bfloat16"),
    )
    log_every: int = describe("Self-play moves between logged metrics.", 5_000, min=1)
    first_pass: bool = describe(
        "Self-play (Go): may a player pass while its opponent has not just passed and a move "
        "outside its own eyes remains? False: games go on until each side has only its eyes "
        "left, so the network meets an opponent that plays on inside its territory.",
        True,
    )  # fmt: skip

    def search_settings(self) -> SearchSettings:
        """The self-play search (the number of simulations varies per move)."""
        return SearchSettings(
            kind=self.search, simulations=self.simulations, considered=self.considered,
            c_scale=self.c_scale, c_puct=self.c_puct, dirichlet_alpha=self.dirichlet_alpha,
            noise_fraction=self.noise_fraction,
        )  # fmt: skip
