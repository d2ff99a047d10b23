"""Environment adapters: PettingZoo (core), gymnasium (one agent), RLlib (lazy import)."""
