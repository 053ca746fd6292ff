"""The machine interfaces: JSON over HTTP for other systems, authenticated by API keys."""
