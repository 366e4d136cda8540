"""The four agents: analyst, coder, reviewer and integrator.

Each agent has a prompt for a model, the tools it may call and a deterministic offline
strategy that runs when no model is configured.
"""
