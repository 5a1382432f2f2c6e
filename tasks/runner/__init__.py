"""The runner: what every task gets the same way (run folders, checkpoints, logging, resume,
evaluation files and the report). ``base`` is the Task interface; ``session`` drives a run."""
