"""The experiment model: frozen dataclasses, the YAML loader and validation.

``experiment`` holds the in-memory types the engine consumes; ``loader`` turns a file
into them, reporting every problem at once with its path and YAML line, and never
imports or executes anything named in the file.
"""
