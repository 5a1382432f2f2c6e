"""The learning paradigms as environments: tasks with labels or reward (``labelled``), without
labels (``unlabelled``), the suite that runs them all (``suite``, ``report``) and the classical
references measured beside them (``baselines``)."""
