"""Command-line flags shared by the examples: --quick and --out."""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")


def parse_args(description: str):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small data, fast run")
    parser.add_argument("--out", type=Path, default=None, help="folder for figures")
    args = parser.parse_args()
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    return args


def save(fig, args, name):
    if args.out is not None:
        path = args.out / name
        fig.savefig(path, dpi=110, bbox_inches="tight")
        print(f"figure written to {path}")
