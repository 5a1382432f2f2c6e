"""The learning paradigms as environments: the same data, differing only in the feedback given.

| id                        | paradigm                         | feedback on train                 |
|---------------------------|----------------------------------|-----------------------------------|
| learnloop/Classify-v0     | supervised / semi / reward-only  | label, reward or nothing per sample |
| learnloop/Regress-v0      | regression                       | target, or -(a - y)^2 only        |
| learnloop/Reconstruct-v0  | self-supervised                  | the clean sample (from the data)  |
| learnloop/Cluster-v0      | unsupervised                     | a clustering objective, no labels |
| learnloop/Anomaly-v0      | anomaly detection                | outcome of flagged items only     |

Each has a batched twin (``*VectorEnv``, ``gymnasium.make_vec(id, num_envs=B)``) that steps B
samples at once in numpy. Data and splits: :mod:`envs.paradigms.datasets`.
"""
