"""Multisite identity: Fernet key management, the Keystone agent, the star topology's health."""
