"""codesign: co-design the outcomes an NHS contract pays on."""

__version__ = "0.1.0"
