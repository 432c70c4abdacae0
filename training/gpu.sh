#!/bin/sh
# The back-row recipe on a lent GPU machine: engage's `device` tool (one H100 or H200, 16 cores, Python 3.12 with JAX,
# NumPy, OpenCV and h5py but no TensorFlow and no Keras, nothing to download there), Keras on its JAX backend.
#
#   here:   sh training/gpu.sh wheels     .whl/: Keras and the three small wheels that machine lacks (Python 3.12)
#   there:  the device tool's run, carry [".whl"], command "sh training/gpu.sh train" (timeout_s 600)
#           -> $OUT/train.log and $OUT/backrow.tgz.NN: the run folder, its finished stages without optimizer state
#   here:   cat backrow.tgz.* | tar -xz -C ~/engage-runs && engage train --export ~/engage-runs/backrow
#           (a run cut short by the time limit comes back with its last checkpoint: `engage train --resume` it here)
#
# ENGAGE_SHARED (default ../shared) holds the data; ENGAGE_RECIPE replaces the recipe (a smoke test, say).
set -eu
RECIPE=${ENGAGE_RECIPE:-"--alpha 0.75 --stages 64:45:2e-3,96:24:1e-3,96:30:5e-4 --shrink 0.3 --shrink-jpeg 40"}
RUN=/tmp/engage-gpu/backrow

case "${1:-}" in
wheels)
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d .whl keras==3.15.0 namex==0.1.0 optree==0.20.0 platformdirs==4.14.9
    ;;
train)
    shared=${ENGAGE_SHARED:-../shared}
    labels="$shared/data/ferplus/fer2013new.csv"
    if [ ! -f "$labels" ]; then
        echo "no FER+ labels at $labels: set ENGAGE_SHARED to the folder holding data/ferplus" >&2
        exit 2
    fi
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/engage-gpu/site .whl/*.whl
    [ -d /tmp/engage-gpu/images ] || tar -xzf "$shared/data/ferplus/ferplus_images.tar.gz" -C /tmp/engage-gpu
    export PYTHONPATH="/tmp/engage-gpu/site:$PWD" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
    python3 -c "import jax; print('JAX devices:', jax.devices())"
    if [ -f "$RUN/run.json" ]; then resume="--resume $RUN"; else resume="--data $labels --images /tmp/engage-gpu/images $RECIPE --out $RUN"; fi
    # shellcheck disable=SC2086  # the recipe is a list of options
    timeout 480 python3 -m engage train $resume >"$OUT/train.log" 2>&1 || echo "training stopped (exit $?): see train.log"
    python3 -m training.slim "$RUN"
    tar -czf - -C "$(dirname "$RUN")" "$(basename "$RUN")" | split -d -b 15m - "$OUT/backrow.tgz."
    ls -l "$OUT"
    ;;
*)
    echo "usage: sh training/gpu.sh wheels|train" >&2
    exit 2
    ;;
esac
