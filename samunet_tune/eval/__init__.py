"""Evaluation: metrics, protocols, reports."""
