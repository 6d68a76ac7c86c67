"""Geo-site disaster recovery of VNFs: the pure rules.

What a restore point records of a VNF (``shape``), which restore points use
full or incremental backups and which are pruned (``retention``), where a
recorded port goes in the recovery region (``networks``), and the steps of each
workflow (``steps``). No I/O here: the engine (``kingbird.engine.dr_*``) reads
and writes the regions and the database.
"""
