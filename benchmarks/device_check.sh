#!/usr/bin/env bash
# The GPU checks of the stacked engine, in one go, on the device machine (an H100/H200), in at most 9 minutes:
#
#   (a) the CUDA-relevant tests: pytest -k "cuda or stack or gpu" (a test marked @pytest.mark.cuda matches too:
#       marker names are keywords), on the GPU machine's torch;
#   (b) benchmarks/gpu_throughput.py --device cuda with the full member list (groups of 1,5,24,120, each with its
#       CUDA graph and eagerly) and 15 separate gan train processes.
#
# Run from the repository root:   bash benchmarks/device_check.sh
# Output, in $OUT (./device-check-out when OUT is unset): env.txt, pytest.log, throughput.txt (the table),
# throughput.err (progress and errors), throughput.json (the figures, written after every row).
#
# Nothing is fetched from the network. Python: the carried .venv when it runs there and sees CUDA, else the
# machine's python3 (which holds torch); the gan packages are used from packages/*/src, with their entry points
# written to a temporary folder when they are not installed (no pip). MNIST: $GAN_DATA_DIR/mnist, ../shared/data,
# ./shared/data or ./build/data (ignored by git: copy it there and carry it). Through the device tool, e.g.:
#   here:   mkdir -p build/data && cp -r "$GAN_DATA_DIR/mnist" build/data/
#   run:    command "bash benchmarks/device_check.sh", carry ["build/data"], timeout_s 580
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-check-out}
mkdir -p "$OUT"
TESTS_S=${TESTS_S:-170}  # (a)'s limit
BENCH_S=${BENCH_S:-330}  # (b)'s limit: with set-up, 9 minutes in all
TESTS_K=${TESTS_K:-cuda or stack or gpu}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu BENCH_EXTRA="--members 1,2 --processes 2 --steps 2" tries this script without a GPU
BENCH_EXTRA=${BENCH_EXTRA:-}
started=$SECONDS

# --- python --------------------------------------------------------------------------------------------------
PY=""
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import torch, gan_core; assert torch.cuda.is_available()' 2>/dev/null; then
    PY=$PWD/.venv/bin/python
else
    PY=$(command -v python3)
fi
if ! "$PY" -c 'import gan_core, gan_san' 2>/dev/null; then
    # not installed: the sources on the path, and each package's metadata (its entry points: the plugins) beside them
    SITE=$(mktemp -d /tmp/gan-site.XXXXXX)
    "$PY" - "$SITE" <<'EOF' || exit 1
import pathlib, sys, tomllib
site = pathlib.Path(sys.argv[1])
for pyproject in sorted(pathlib.Path("packages").glob("*/pyproject.toml")):
    project = tomllib.loads(pyproject.read_text())["project"]
    name, version = project["name"], project.get("version", "0")
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    groups = dict(project.get("entry-points", {}))
    if project.get("scripts"):
        groups["console_scripts"] = project["scripts"]
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()) + "\n" for group, points in groups.items()))
EOF
    SRC=$(ls -d "$PWD"/packages/*/src | paste -sd: -)
    export PYTHONPATH="$SITE:$SRC${PYTHONPATH:+:$PYTHONPATH}"
    mkdir -p "$SITE/bin"
    printf '#!/bin/sh\nexec "%s" -m gan_core "$@"\n' "$PY" > "$SITE/bin/gan" && chmod +x "$SITE/bin/gan"
    export PATH="$SITE/bin:$PATH"
fi

# --- data ------------------------------------------------------------------------------------------------------
DATA=""
for root in "${GAN_DATA_DIR:-}" "$PWD/../shared/data" "$PWD/shared/data" "$PWD/build/data"; do
    if [ -n "$root" ] && [ -f "$root/mnist/train-images-idx3-ubyte.gz" ]; then DATA=$(cd "$root" && pwd); break; fi
done
if [ -z "$DATA" ]; then
    echo "no MNIST: put train-images-idx3-ubyte.gz & co. in build/data/mnist and carry build/data" | tee "$OUT/env.txt"
    exit 2
fi
export GAN_DATA_DIR=$DATA GAN_NO_DOWNLOAD=1 PYTHONUNBUFFERED=1
# the tests' conftest looks for ../shared/data/mnist beside the checkout (else its tests skip)
if [ ! -f ../shared/data/mnist/train-images-idx3-ubyte.gz ]; then
    mkdir -p ../shared/data 2>/dev/null && ln -sfn "$DATA/mnist" ../shared/data/mnist 2>/dev/null \
        || echo "could not link ../shared/data/mnist: the MNIST tests will skip" >&2
fi

{
    echo "date: $(date -u +%FT%TZ)"
    echo "python: $PY"
    echo "PYTHONPATH: ${PYTHONPATH:-}"
    echo "GAN_DATA_DIR: $GAN_DATA_DIR"
    "$PY" -c 'import sys, torch, gan_core; print("python", sys.version.split()[0], "torch", torch.__version__,
"cuda", torch.version.cuda, "device", torch.cuda.get_device_name() if torch.cuda.is_available() else None,
"gan_core", getattr(gan_core, "__version__", "?"))'
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
    nproc
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# --- (a) the CUDA-relevant tests -------------------------------------------------------------------------------
PARALLEL=()
if "$PY" -c 'import xdist' 2>/dev/null; then PARALLEL=(-n 4); fi
echo "== (a) pytest -k '$TESTS_K' ${PARALLEL[*]+${PARALLEL[*]}} (limit ${TESTS_S}s)"
OMP_NUM_THREADS=4 timeout -k 10 "$TESTS_S" "$PY" -m pytest -q -ra -p no:cacheprovider -k "$TESTS_K" \
    ${PARALLEL[@]+"${PARALLEL[@]}"} > "$OUT/pytest.log" 2>&1
tests_rc=$?
tail -n 25 "$OUT/pytest.log"
echo "pytest exit $tests_rc after $((SECONDS - started))s"

# --- (b) the throughput benchmark ------------------------------------------------------------------------------
echo "== (b) gpu_throughput.py --device $DEVICE --members 1,5,24,120 --processes 15 $BENCH_EXTRA (limit ${BENCH_S}s)"
# shellcheck disable=SC2086  # BENCH_EXTRA is split into its flags on purpose
timeout -k 15 "$BENCH_S" "$PY" benchmarks/gpu_throughput.py --device "$DEVICE" --members 1,5,24,120 --processes 15 \
    --losses vanilla,san,wgan-gp --json "$OUT/throughput.json" $BENCH_EXTRA > "$OUT/throughput.txt" 2> "$OUT/throughput.err"
bench_rc=$?
cat "$OUT/throughput.txt"
tail -n 15 "$OUT/throughput.err"
echo "gpu_throughput exit $bench_rc; all done after $((SECONDS - started))s"
[ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ]
