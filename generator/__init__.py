"""Synthetic e-commerce data: one day at a time, a pure function of (seed, config, day)."""

from generator.config import SCALES, ConfigError, GeneratorConfig

__all__ = ["SCALES", "ConfigError", "GeneratorConfig"]
