#!/usr/bin/env bash
# Run the kernel tests under valgrind memcheck and summarise the memory errors.
#
#   scripts/memcheck.sh                 # the kernel test modules
#   scripts/memcheck.sh tests/test_kernels.py -k gemm    # any pytest arguments
#
# Compiled kernels trust their arguments once the Python checks have passed; a
# wrong index there reads or writes memory nobody owns, usually without
# crashing.  Memcheck sees every such access.  Python itself is run with
# PYTHONMALLOC=malloc (so memcheck sees each object allocation) and with the
# suppression file CPython ships for its own harmless tricks; the dynamic
# loader's and the interpreter's known false positives are suppressed too.
# Nothing in minidl's own compiled modules is ever suppressed.
#
# Prints the pytest result, then the number of invalid reads/writes (all, and
# those with a minidl kernel on the stack).  Exit status 0 only when the tests
# pass and there are no invalid reads or writes.
set -euo pipefail

cd "$(dirname "$0")/.."
VALGRIND=${VALGRIND:-/usr/bin/valgrind}
PYTHON=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')  # not a pyenv shim
LOG=${MEMCHECK_LOG:-$(mktemp -t memcheck.XXXXXX.log)}
SUPP=$(mktemp -t memcheck.XXXXXX.supp)
trap 'rm -f "$SUPP"' EXIT

cat > "$SUPP" <<'EOF'
{
   ld.so reads a word past the end of a path string while loading shared libraries
   Memcheck:Addr8
   fun:strncmp
   fun:is_dst
}
{
   glibc's AVX2 wmemcmp compares 32 bytes at a time past the end of short strings (str sorting)
   Memcheck:Addr32
   fun:__wmemcmp_avx2_movbe
   fun:unicode_compare
}
{
   the interpreter's own uninitialised-looking values (small ints, hashes, GC traversal)
   Memcheck:Cond
   obj:*libpython3*
}
{
   the interpreter's own uninitialised-looking values, 8-byte uses
   Memcheck:Value8
   obj:*libpython3*
}
EOF
PYTHON_SUPP=()
for candidate in /usr/lib/valgrind/python3.supp /usr/lib/valgrind/python.supp; do
    [[ -f $candidate ]] && PYTHON_SUPP=(--suppressions="$candidate") && break
done

if [[ $# -eq 0 ]]; then
    set -- tests/test_kernels.py tests/test_kernel_arguments.py tests/test_kernel_fuzz.py \
        tests/test_kernel_readonly.py tests/test_kernel_sizes.py
fi

echo "memcheck: $* (log: $LOG)"
start=$(date +%s)
set +e
# OPENBLAS_CORETYPE: valgrind does not emulate AVX-512, so keep OpenBLAS on AVX2 code.
# MINIDL_UNDER_VALGRIND: nor the flush-to-zero bits, so the tests of flushing skip.
env PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH} PYTHONMALLOC=malloc OPENBLAS_CORETYPE=Haswell \
    MINIDL_UNDER_VALGRIND=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} MINIDL_KERNELS=compiled \
    "$VALGRIND" --tool=memcheck --leak-check=no --track-origins=no --num-callers=30 \
    --suppressions="$SUPP" "${PYTHON_SUPP[@]}" --log-file="$LOG" \
    "$PYTHON" -m pytest -q -p no:cacheprovider "$@" > "$LOG.pytest" 2>&1
status=$?
set -e
seconds=$(( $(date +%s) - start ))

python3 - "$LOG" "$LOG.pytest" "$status" "$seconds" <<'EOF'
import re
import sys

log, pytest_log, status, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
text = open(log).read()
# one error = a header line ("Invalid read of size 4") and its stack, up to a blank line
errors = re.findall(r"==\d+== (\S[^\n]*)\n((?:==\d+==    [^\n]*\n)+)", text)
kinds = {"invalid read": 0, "invalid write": 0, "invalid free": 0, "overlap": 0, "uninitialised": 0}
in_minidl = dict.fromkeys(kinds, 0)
for header, stack in errors:
    h = header.lower()
    kind = ("invalid read" if h.startswith("invalid read") else "invalid write" if h.startswith("invalid write")
            else "invalid free" if "free" in h else "overlap" if "overlap" in h
            else "uninitialised" if "uninitialised" in h else None)
    if kind is None:
        continue
    kinds[kind] += 1
    if re.search(r"minidl/_kernels/\w+\.(pyx|c)|_kernels/\w+\.cpython", stack):
        in_minidl[kind] += 1
summary = re.findall(r"ERROR SUMMARY: (\d+) errors from (\d+) contexts \(suppressed: (\d+)", text)
result = [line for line in open(pytest_log).read().splitlines() if re.search(r"\d+ (passed|failed)", line)]
print(f"pytest under valgrind ({seconds} s): {result[-1] if result else 'no result line; see ' + pytest_log}")
if summary:
    errors_, contexts, suppressed = summary[-1]
    print(f"valgrind ERROR SUMMARY: {errors_} errors from {contexts} contexts ({suppressed} suppressed)")
for kind in kinds:
    print(f"  {kind:14s} {kinds[kind]:6d}   with a minidl kernel on the stack: {in_minidl[kind]}")
bad = kinds["invalid read"] + kinds["invalid write"] + kinds["invalid free"]
print("RESULT:", "OK, no invalid reads or writes" if bad == 0 and status == 0 else
      f"FAIL (pytest exit {status}, {bad} invalid accesses; see {log})")
sys.exit(0 if bad == 0 and status == 0 else 1)
EOF
