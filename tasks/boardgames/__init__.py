"""Two-player board games: the shared self-play task (``base``), Go (``go``, ``go_play``) and
PettingZoo's classic games (``classic``)."""
