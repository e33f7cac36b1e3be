#!/usr/bin/env bash
# Build the kernels the other ways learners' machines build them, each in a copy
# of this clone, and run the kernel tests on each build:
#
#   CC=clang MINIDL_OPENMP=0   clang and no OpenMP: a Mac without libomp
#   MINIDL_PLAIN_C=1           no GCC vector extensions: the MSVC code paths
#                              (src/minidl/_kernels/portable.h)
#
#   scripts/kernel_variants.sh            # both (the clang one skipped without clang)
#   scripts/kernel_variants.sh MINIDL_PLAIN_C=1     # one build, given as VAR=value ...
#
# Run from a git clone with the project's Python environment active.  About
# 1.5 minutes per build on 2 cores (the build; the tests take 15 s).  Exit
# status 0 only when every build and its tests pass.
set -uo pipefail
cd "$(dirname "$0")/.."

KERNEL_TESTS=(tests/test_kernels.py tests/test_kernels_winograd.py
              tests/test_kernel_arguments.py tests/test_threads.py
              tests/test_kernels_packed_gemm.py tests/test_kernels_lstm_sequence.py)

variant() {  # variant VAR=value ...: build a copy of the clone that way, then its kernel tests
    local dir rc
    dir=$(mktemp -d)
    git ls-files -z | xargs -0 cp --parents -t "$dir"
    (cd "$dir" && env "$@" python setup.py -q build_ext --inplace \
        && PYTHONPATH="$dir/src" python -c 'import minidl, sys
assert minidl.__file__.startswith(sys.argv[1]), minidl.__file__' "$dir" \
        && PYTHONPATH="$dir/src" python -m pytest -q -p no:randomly "${KERNEL_TESTS[@]}")
    rc=$?
    rm -rf "$dir"
    echo "kernel_variants: $*: $([ "$rc" -eq 0 ] && echo passed || echo "FAILED (exit $rc)")"
    return "$rc"
}

status=0
if [ "$#" -gt 0 ]; then
    variant "$@" || status=1
else
    if command -v clang > /dev/null; then
        variant CC=clang MINIDL_OPENMP=0 || status=1
    else
        echo "kernel_variants: no clang, the clang build without OpenMP is skipped"
    fi
    variant MINIDL_PLAIN_C=1 || status=1
fi
exit "$status"
