"""Resource synchronisation: one copier per resource type.

The types and their copiers are registered in ``kingbird.sync.registry``; the
API asks the copiers whether a resource is in its source region, the engine's
job runner asks them to copy it.
"""
