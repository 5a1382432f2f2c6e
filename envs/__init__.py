"""Simulators: Gymnasium and PettingZoo environments. Importing this registers the Gymnasium ids.

Entry points are strings, so registering imports no env module (and no numba) until
``gymnasium.make`` asks for one. Add new ids as one ``register`` call each.
"""

from gymnasium.envs.registration import register

register(
    id="learnloop/Go-v0",
    entry_point="envs.go.single:GoSingleEnv",
    # gymnasium.make_vec("learnloop/Go-v0", num_envs=64, vectorization_mode="vector_entry_point")
    vector_entry_point="envs.go.vector:GoVectorEnv",
)
for _name in ("Classify", "Regress", "Reconstruct", "Cluster", "Anomaly", "Adversarial"):
    register(
        id=f"learnloop/{_name}-v0",
        entry_point=f"envs.paradigms.{_name.lower()}:{_name}Env",
        vector_entry_point=f"envs.paradigms.{_name.lower()}:{_name}VectorEnv",
    )
register(
    id="learnloop/Inventory-v0",
    entry_point="envs.warehouse.inventory:InventoryEnv",
    kwargs={"preset": "orgym_v0"},
)
register(
    id="learnloop/Fraud-v0",
    entry_point="envs.paradigms.fraud:FraudEnv",
    vector_entry_point="envs.paradigms.fraud:FraudVectorEnv",
)
