"""The warehouse tasks: robots fetching shelves and an inventory along a supply chain."""
