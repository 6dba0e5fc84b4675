"""Defaults that a stage and a user setting share, written once: the stage's dataclasses
default to them, and ``config`` declares the settings with them (this module imports
nothing, so neither side pays to read it)."""

TEMPERATURE = 0.2  # sampling temperature
SEED = 42  # sampling seed: fixed, so a rerun writes the same text
MAX_TOKENS = 320  # most tokens the final summary (the reduce) may have
