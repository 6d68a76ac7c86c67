"""regionsim: a simulator of the OpenStack APIs Kingbird drives."""
