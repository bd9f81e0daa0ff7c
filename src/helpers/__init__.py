"""Relation Playbooks: helpers behind the notebooks (world, features, knowledge, models, reports)."""

__version__ = "0.1.0"
