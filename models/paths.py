"""Where the project finds data it must not commit: data sets and the PDK."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BUILD = Path(os.environ.get("BUILD_DIR", REPO / "build"))


def datasets_dir():
    """$DATASETS_DIR, else ../shared/datasets, else the folder `make data` fills."""
    for cand in (os.environ.get("DATASETS_DIR"), SHARED / "datasets", BUILD / "data"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def liberty(corner="typ"):
    """Plain-text NanGate45 liberty: $LIBERTY, else ../shared/pdk/nangate45/ (gunzipped
    into build/pdk on first use)."""
    env = os.environ.get("LIBERTY")
    if env:
        return Path(env)
    gz = SHARED / "pdk" / "nangate45" / f"nangate45_{corner}.lib.gz"
    if not gz.exists():
        raise FileNotFoundError(
            f"NanGate45 liberty not found: set LIBERTY=/path/to/NangateOpenCellLibrary_typical.lib "
            f"or place {gz.name} in {gz.parent}. The library is the NanGate 45nm Open Cell Library "
            "(also shipped with OpenROAD-flow-scripts, platforms/nangate45/lib).")
    out = BUILD / "pdk" / gz.name[:-3]
    if not out.exists() or out.stat().st_mtime < gz.stat().st_mtime:
        import gzip
        import shutil
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")     # parallel synthesis jobs race here
        with gzip.open(gz, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        tmp.rename(out)
    return out
