#!/usr/bin/env python3
"""The module graph's promises (docs/layout.md), checked on Package.swift as SwiftPM reads it:
each C library is reached only by the modules that speak to it. Reads
`swift package describe --type json` on stdin; prints each broken promise, exit 1 if any.
`make lint` runs it."""
import json
import sys

# module: C libraries it must not reach, directly or through another module.
PROMISES = {
    "MSSClampCore": {"CNetfilterQueue", "CPcap", "CCap", "CYAML", "CThread"},
    "MSSClampTunnels": {"CNetfilterQueue", "CPcap", "CCap", "CYAML", "CThread"},
    "MSSClampLearning": {"CNetfilterQueue", "CPcap", "CCap", "CYAML", "CThread"},
    "MSSClampReport": {"CNetfilterQueue", "CPcap", "CCap", "CYAML", "CThread"},
    "MSSClampStatus": {"CNetfilterQueue", "CPcap", "CCap", "CYAML", "CThread"},
    "MSSClampMetrics": {"CNetfilterQueue", "CPcap", "CCap", "CYAML", "CThread"},
    "MSSClampRules": {"CNetfilterQueue", "CPcap", "CCap", "CYAML", "CThread"},
    "MSSClampDoctor": {"CNetfilterQueue", "CPcap", "CCap", "CYAML", "CThread"},
    "MSSClampProbe": {"CNetfilterQueue", "CPcap", "CCap", "CYAML", "CThread"},
    "MSSClampDaemon": {"CPcap"},
}


def main() -> int:
    package = json.load(sys.stdin)
    edges = {t["name"]: t.get("target_dependencies") or [] for t in package["targets"]}
    broken = 0
    for module, forbidden in PROMISES.items():
        if module not in edges:
            print(f"check-layers: no module {module} (update scripts/check-layers.py)")
            broken += 1
            continue
        # Every module reached, with the path that reaches it (for the message).
        paths, todo = {module: [module]}, [module]
        while todo:
            here = todo.pop()
            for dep in edges.get(here, []):
                if dep not in paths:
                    paths[dep] = paths[here] + [dep]
                    todo.append(dep)
        for library in sorted(forbidden & paths.keys()):
            print(f"check-layers: {module} reaches {library}: {' -> '.join(paths[library])}")
            broken += 1
    if broken == 0:
        print(f"check-layers: {len(PROMISES)} modules reach no C library they do not speak to")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
