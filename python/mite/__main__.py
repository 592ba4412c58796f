"""`mite` / `python -m mite`: the native command line."""

import sys


def main():
    from ._native import main as native_main

    sys.exit(native_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
