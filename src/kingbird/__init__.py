"""Kingbird: multi-region control plane for OpenStack."""
