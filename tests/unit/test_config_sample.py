"""The committed configuration sample is what the generator produces today."""

from __future__ import annotations

from pathlib import Path

from oslo_config import generator

from kingbird import config

ROOT = Path(__file__).resolve().parents[2]
GENERATOR_CONF = ROOT / "etc" / "kingbird" / "kingbird-config-generator.conf"
SAMPLE = ROOT / "etc" / "kingbird" / "kingbird.conf.sample"


def test_config_sample_is_up_to_date(tmp_path):
    # What the generator's oslo.config.opts.defaults hook does once the package's entry
    # points are installed; called here so that the result depends on no test order.
    config.set_library_defaults()
    fresh = tmp_path / "kingbird.conf.sample"
    generator.main(["--config-file", str(GENERATOR_CONF), "--output-file", str(fresh)])
    assert fresh.read_text() == SAMPLE.read_text(), (
        "etc/kingbird/kingbird.conf.sample is out of date: run make genconfig"
    )
