"""Shipped recipes, installed as package data so they run by name."""
