"""Print the pinned requirements of pyproject.toml (runtime plus dev), one per line.

The project itself is not installed into the shared virtualenv: CI runs from fresh clones
in other folders, so the code is imported from the working tree instead.
"""

import sys
import tomllib

with open(sys.argv[1], "rb") as fh:
    project = tomllib.load(fh)["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
    print(requirement)
