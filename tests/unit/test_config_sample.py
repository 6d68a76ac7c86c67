"""The committed configuration sample is what the generator produces today."""

from __future__ import annotations

from pathlib import Path

from oslo_config import generator

ROOT = Path(__file__).resolve().parents[2]
GENERATOR_CONF = ROOT / "etc" / "kingbird" / "kingbird-config-generator.conf"
SAMPLE = ROOT / "etc" / "kingbird" / "kingbird.conf.sample"


def test_config_sample_is_up_to_date(tmp_path):
    fresh = tmp_path / "kingbird.conf.sample"
    generator.main(["--config-file", str(GENERATOR_CONF), "--output-file", str(fresh)])
    assert fresh.read_text() == SAMPLE.read_text(), (
        "etc/kingbird/kingbird.conf.sample is out of date: run make genconfig"
    )
