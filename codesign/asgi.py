"""ASGI entry point for uvicorn workers: settings from the environment, then create_app."""

from codesign.app import create_app
from codesign.config import Settings

app = create_app(Settings.from_env())
