"""presscut configuration: `load_config` reads and validates it once."""

from config.loader import Config, ConfigError, config_dir, load_config
from config.schema import Settings, Source, Topic

__all__ = ["Config", "ConfigError", "Settings", "Source", "Topic", "config_dir", "load_config"]
