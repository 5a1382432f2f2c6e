"""learnloop's own torch learners for the paradigm envs, by name (imported when asked for).

| name          | class                      | learns from                                   |
|---------------|----------------------------|-----------------------------------------------|
| supervised    | SupervisedLearner          | ``info["label"]`` / ``info["target"]``        |
| reward        | PolicyGradientLearner      | the reward alone                              |
| semi          | SemiSupervisedLearner      | the labels there are, plus unlabelled samples |
| autoencoder   | AutoencoderLearner         | ``info["clean"]``, derived from the data      |
| cluster       | ClusterLearner             | observations only                             |
| anomaly       | AnomalyLearner             | the stream, and outcomes of investigations    |
| gan           | GanLearner                 | labels, unlabelled and generated samples      |
| fraud         | FraudLearner               | delayed labels and its own investigations     |

They are the algorithms of the ``learnloop`` backend (:data:`agents.backends.BACKENDS`,
:class:`agents.learners.backend.LearnerBackend`), which trains any of them through the runner;
a paradigm task picks one with ``learner.name``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.learners.base import Learner

LEARNERS: dict[str, str] = {
    "supervised": "agents.learners.supervised:SupervisedLearner",
    "reward": "agents.learners.reward:PolicyGradientLearner",
    "semi": "agents.learners.semi:SemiSupervisedLearner",
    "autoencoder": "agents.learners.autoencoder:AutoencoderLearner",
    "cluster": "agents.learners.cluster:ClusterLearner",
    "anomaly": "agents.learners.anomaly:AnomalyLearner",
    "gan": "agents.learners.gan:GanLearner",
    "fraud": "agents.learners.fraud:FraudLearner",
}


def learner_class(name: str) -> type[Learner]:
    """The learner class registered as ``name``; ValueError lists the known ones."""
    if name not in LEARNERS:
        raise ValueError(f"unknown learner {name!r}; known: {', '.join(LEARNERS)}")
    module_name, _, class_name = LEARNERS[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)
