"""The parts of ``lib.mapping_engine``: rules and paths, and the transforms.

Import the public names from ``lib.mapping_engine``.
"""
