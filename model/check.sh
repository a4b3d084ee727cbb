#!/usr/bin/env bash
# model/check.sh: check model/fencing.pml (election + epoch fencing) exhaustively with spin.
#
# The correct model must hold every property (pan: "errors: 0", search complete); every bug
# variant must violate the property it breaks. Anything else exits non-zero. Builds and runs in a
# temporary directory (no pan* or *.trail is left in the repository); on an unexpected result
# that directory is kept and its path printed, so the trail can be replayed with spin -t -p.
#
#   bash model/check.sh            (npm run check:model)
#   MODEL_CHECK_JOBS=1 bash model/check.sh    to run one pan at a time (default 2)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
model=$here/fencing.pml
jobs=${MODEL_CHECK_JOBS:-2}

for tool in spin gcc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "model/check.sh: '$tool' is not installed (Debian: apt-get install -y spin gcc)" >&2
    exit 2
  fi
done
[ -f "$model" ] || { echo "model/check.sh: $model not found" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fencing-check.XXXXXX")
keep=0
trap '[ "$keep" = 1 ] || rm -rf "$work"' EXIT

# Builds: name | spin defines | extra gcc flags. "main" is the bound of the safety properties.
builds=(
  "main|-DNC=3 -DHFLIPS=1 -DNSWITCH=1|"
  "failback|-DNC=2 -DHFLIPS=0 -DNSWITCH=2|"
  "live|-DNC=2 -DHFLIPS=1 -DNSWITCH=1 -DK=2|-DNFAIR=3"
  "live-unbounded|-DNC=2 -DHFLIPS=1 -DNSWITCH=1|-DNFAIR=3"
  "READ_BEFORE_FENCE|-DNC=3 -DHFLIPS=1 -DNSWITCH=1 -DREAD_BEFORE_FENCE|"
  "NO_DIRECTOR_FENCE|-DNC=3 -DHFLIPS=1 -DNSWITCH=1 -DNO_DIRECTOR_FENCE|"
  "SWITCH_NO_FENCE|-DNC=3 -DHFLIPS=1 -DNSWITCH=1 -DSWITCH_NO_FENCE|"
  "SWITCH_NO_SEED|-DNC=3 -DHFLIPS=1 -DNSWITCH=1 -DSWITCH_NO_SEED|"
  "NO_HOLD|-DNC=3 -DHFLIPS=1 -DNSWITCH=1 -DNO_HOLD|"
)
# Checks: build | property | pan flags | expect (hold | violate) | what it says
checks=(
  "main|S1|-a|hold|no stale action lands (3 candidates, 1 health flip, switchover)"
  "main|S2|-a|hold|never elect a DOWN candidate, hold when none UP"
  "main|S3|-a|hold|completed fan-out for the stored epoch => every branch on serving"
  "failback|S1|-a|hold|no stale action lands (2 candidates, switchover + failback)"
  "failback|S2|-a|hold|never elect a DOWN candidate (switchover + failback)"
  "failback|S3|-a|hold|fence, then read (switchover + failback)"
  "live|L3|-a -f|hold|weak fairness, <= 2 faults: every branch reaches serving"
  "live-unbounded|L3|-a -f|violate|with unbounded faults L3 fails (it is not vacuous)"
  "READ_BEFORE_FENCE|S3|-a|violate|plan from a view read before the fence"
  "NO_DIRECTOR_FENCE|S1|-a|violate|directors do not check the epoch"
  "SWITCH_NO_FENCE|S3|-a|violate|switchover does not fence the old director"
  "SWITCH_NO_SEED|S3|-a|violate|switchover does not give the new director the epoch"
  "NO_HOLD|S2|-a|violate|none UP: fail over to a DOWN candidate anyway"
)

# Run at most $jobs background jobs at a time.
throttle() {
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
}

build() {
  local name=$1 defs=$2 cflags=$3 dir=$work/$1
  mkdir -p "$dir"
  cp "$model" "$dir/fencing.pml"
  # shellcheck disable=SC2086 # defines are word lists
  if ! (cd "$dir" && spin $defs -a fencing.pml >spin.log 2>&1 &&
    gcc -O2 -DCOLLAPSE -DMEMLIM=4096 $cflags -w -o pan pan.c >gcc.log 2>&1); then
    echo "build failed: $name ($defs): see $dir/spin.log, $dir/gcc.log" >"$dir/FAILED"
  fi
}

check() {
  local i=$1 name=$2 prop=$3 flags=$4 expect=$5 dir=$work/$2 out
  out=$work/out.$i
  if [ -f "$dir/FAILED" ]; then
    cp "$dir/FAILED" "$out"
    echo bad >"$work/status.$i"
    return
  fi
  # shellcheck disable=SC2086 # flags are word lists
  (cd "$dir" && ./pan $flags -m200000 -w23 -N "$prop" >"$out" 2>&1) || true
  local verdict=bad
  if grep -qE 'max search depth too small|out of memory|MEMLIM|error: ' "$out"; then
    verdict=bad # incomplete search: neither a proof nor a counterexample we trust
  elif [ "$expect" = hold ] && grep -q 'errors: 0$' "$out"; then
    verdict=ok
  elif [ "$expect" = violate ] && grep -qE 'errors: [1-9]' "$out" &&
    ! grep -q 'assertion violated ((e+1)<' "$out"; then
    verdict=ok # a violation of the property itself, not the model's epoch-bound assert
  fi
  echo "$verdict" >"$work/status.$i"
}

SECONDS=0
for b in "${builds[@]}"; do
  IFS='|' read -r name defs cflags <<<"$b"
  throttle
  build "$name" "$defs" "$cflags" &
done
wait

for i in "${!checks[@]}"; do
  IFS='|' read -r name prop flags expect _ <<<"${checks[$i]}"
  throttle
  check "$i" "$name" "$prop" "$flags" "$expect" &
done
wait

failed=0
printf '%-4s %-18s %-4s %-8s %12s %8s  %s\n' "" build prop expect states seconds ""
for i in "${!checks[@]}"; do
  IFS='|' read -r name prop flags expect what <<<"${checks[$i]}"
  out=$work/out.$i
  status=$(cat "$work/status.$i" 2>/dev/null || echo bad)
  states=$(awk '/states, stored/ { print $1; exit }' "$out" 2>/dev/null || true)
  secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' "$out" 2>/dev/null | head -1)
  if [ "$status" = ok ]; then tag=ok; else tag=FAIL; failed=1; fi
  result=$([ "$expect" = hold ] && echo "errors: 0" || echo "violated")
  if [ "$status" != ok ]; then
    result=$(grep -m1 -E 'errors:|pan:1:|error|build failed' "$out" 2>/dev/null || echo "no result")
  fi
  printf '%-4s %-18s %-4s %-8s %12s %8s  %s: %s\n' "$tag" "$name" "$prop" "$expect" \
    "${states:--}" "${secs:--}" "$what" "$result"
done
echo "model check: ${#checks[@]} runs, ${SECONDS}s in all (spin $(spin -V | awk '{print $3}'), $jobs at a time)"

if [ "$failed" = 1 ]; then
  keep=1
  echo "model/check.sh: unexpected result; pan output and trails kept in $work" >&2
  echo "  replay a trail: cd $work/<build> && spin <defines> -t -p fencing.pml" >&2
  exit 1
fi
