"""Pure contract logic: measurement definitions, money, and comparing framework versions.
Imports no web, database or template code."""
