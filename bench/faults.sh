#!/usr/bin/env bash
# Fault campaign of the online job: configs/heat2d_fno_online.toml at a small budget (128
# training simulations of heat2d 32² x 21 frames, 4 validation simulations, FNO width 20 /
# 8 modes, batch 8: 336 steps; FIFO buffer, so every example must be trained on exactly
# once; checkpoints every 50 steps; 1 trainer rank + 2 simulation ranks), run clean and
# under injected faults, each repeated over TRIALS seeds with random timings.
#   bash bench/faults.sh [BIN_DIR=build/bin] [TRIALS=3]
#   FAULTS="kill_sim corrupt_data" bash bench/faults.sh      # some rows only
#   FAULT_SEED=7 bash bench/faults.sh                       # other random timings
#
# Rows (one trial = one seed; timings drawn with FAULT_SEED):
#   clean            no fault: the reference for the last column
#   kill_sim         kill -9 of a simulation rank (1 or 2) at a random time, then --resume
#   kill_trainer     kill -9 of the trainer rank at a random time, then --resume
#   kill_checkpoint  the trainer SIGKILLs itself inside a checkpoint write (after its buffer
#                    file, or after the accounts before checkpoint.pt), then --resume
#   throw, nan, hang, corrupt_data
#                    a random simulation fails at a random output ([online] fault): the
#                    trainer fails it (error / non-finite / sim_timeout / checksum) and redraws
#   disk_checkpoint  the run directory on a tmpfs that another writer fills at a random time
#                    after the first checkpoint: the job ends with one line at its next write,
#                    then --resume on a roomy disk finishes from the last complete checkpoint
#   disk_generate    `generate` onto a tmpfs that another writer fills at a random time: the
#                    reserved dataset is finished with every sample
#   disk_generate_unreserved
#                    the same with output.reserve = false: one line, no file left
# The kills take the whole MPI job down (mpirun ends every rank when one dies): that is
# expected, and counted as a check only if the job ends non-zero by itself within 120 s.
# Columns: jobs finished (after the resume, if any) with a clean shutdown; samples lost
# (examples of the budget never trained on); duplicated samples (examples trained on twice,
# or trained on although their simulation failed); the final validation relative L2 error
# against the clean runs'; the per-fault checks that passed (exit codes, one-line errors,
# no temporary or partial file left, resumed from the previous checkpoint).
# The disk rows need `mount -t tmpfs` (root); without it they are reported as skipped.
set -uo pipefail
BIN=${1:-build/bin}
TRIALS=${2:-3}
FAULTS=${FAULTS:-clean kill_sim kill_trainer kill_checkpoint throw nan hang corrupt_data disk_checkpoint disk_generate disk_generate_unreserved}
RANDOM=${FAULT_SEED:-1}
OUT=$PWD/runs/bench-faults
PDS=$PWD/$BIN/pdestream
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
MPI3=(mpiexec --bind-to none -n 3)
SAMPLES=128
FRAMES=21
JOB=(--config configs/heat2d_fno_online.toml --set simulation.samples=$SAMPLES --set online.validation_samples=4
     --set online.buffer='"fifo"' --set online.buffer_capacity=64 --set online.buffer_threshold=16
     --set training.batch_size=8 --set training.checkpoint_every=50 --set training.validate_every=0
     --set online.sim_timeout=5 --set online.shutdown_timeout=30 --set online.on_failure='"redraw"')
rm -rf "$OUT"
mkdir -p "$OUT"
TRIALS_TSV=$OUT/trials.tsv
: >"$TRIALS_TSV"
TMPFS=$OUT/tmpfs

source "$(dirname "${BASH_SOURCE[0]}")/../scripts/wait_for.sh"

# The process of world rank $2 under mpirun $1 (mpirun starts local ranks as its children).
rank_pid() {
  local c
  for c in $(pgrep -P "$1"); do
    grep -qz "^OMPI_COMM_WORLD_RANK=$2\$" "/proc/$c/environ" 2>/dev/null && { echo "$c"; return; }
  done
}

# Exactly one pdestream error line in the log (Open MPI's abort banner aside).
one_line_error() {
  [[ $(grep -c "^pdestream.*error:" "$1") -eq 1 ]]
}

# Mounts a tmpfs of $1 at $TMPFS; without the right to mount, records the trial as skipped.
mount_tmpfs() {
  mkdir -p "$TMPFS"
  mount -t tmpfs -o size="$1" tmpfs "$TMPFS" 2>/dev/null && return 0
  echo -e "$fault\t$k\tskip\t\t\t\t0\t0\tmount -t tmpfs not allowed" >>"$TRIALS_TSV"
  return 1
}

uniform() { # uniform in [$1, $2) with 3 decimals, from bash's seeded RANDOM
  awk -v a="$1" -v b="$2" -v r="$RANDOM" 'BEGIN { printf "%.3f", a + (b - a) * r / 32768 }'
}

# Appends one row to trials.tsv from a finished run directory:
# fault trial finished lost duplicated rel_l2 checks_passed checks_total note
record() {
  local fault=$1 trial=$2 run=$3 passed=$4 total=$5 note=$6
  $PY - "$run" "$SAMPLES" "$FRAMES" "$fault" "$trial" "$passed" "$total" "$note" >>"$TRIALS_TSV" <<'PY'
import glob, json, os, sys
run, budget, frames, fault, trial, passed, total, note = sys.argv[1:]
budget, frames = int(budget), int(frames)
try:
    s = json.load(open(f"{run}/online_summary.json"))
except (OSError, ValueError):
    print(f"{fault}\t{trial}\t0\t{budget * frames}\t0\tnan\t{passed}\t{total}\t{note or 'no summary'}")
    sys.exit()
done = set(s["done_samples"])
draws = [tuple(p) for f in sorted(glob.glob(f"{run}/draws_*.jsonl")) for line in open(f) if line.strip()
         for p in json.loads(line)["draws"]]
want = {(x, i) for x in done for i in range(frames)}
seen = {}
for p in draws:
    seen[p] = seen.get(p, 0) + 1
missing = len(want - set(seen)) + max(0, budget - len(done)) * frames
dup = sum(c - 1 for c in seen.values()) + sum(c for p, c in seen.items() if p not in want)
finished = int(bool(s.get("clean_shutdown")) and len(done) == budget)
print(f"{fault}\t{trial}\t{finished}\t{missing}\t{dup}\t{s.get('validation_rel_l2', float('nan')):.4f}\t"
      f"{passed}\t{total}\t{note}")
PY
}

# Runs one trial of `fault`; checks counted in $pass / $checks, details in $note.
pass=0 checks=0 note=""
check() { # check DESCRIPTION CONDITION-EXIT-CODE
  checks=$((checks + 1))
  if [[ $2 -eq 0 ]]; then pass=$((pass + 1)); else note+="${note:+; }failed: $1"; fi
}

declare -A CLEAN_WALL
run_trial() {
  local fault=$1 k=$2
  local run=$OUT/$fault-$k
  local log=$OUT/$fault-$k.log
  local seed=$((100 + k))
  local job=("${JOB[@]}" --set sampler.seed=$seed --set training.seed=$k)
  pass=0 checks=0 note=""
  case $fault in
  clean)
    local t0=$SECONDS
    "${MPI3[@]}" "$PDS" train "${job[@]}" --set output.dir="$run" >"$log" 2>&1
    check "clean job exits 0" $?
    CLEAN_WALL[$k]=$((SECONDS - t0))
    ;;
  kill_sim | kill_trainer)
    local rank=0
    [[ $fault == kill_sim ]] && rank=$((1 + RANDOM % 2))
    local at
    at=$(uniform 0.1 0.7)
    at=$(awk -v f="$at" -v w="${CLEAN_WALL[$k]:-20}" 'BEGIN { printf "%.1f", f * w }')
    "${MPI3[@]}" "$PDS" train "${job[@]}" --set output.dir="$run" >"$log" 2>&1 &
    local mpirun=$!
    sleep "$at"
    local victim
    victim=$(rank_pid "$mpirun" "$rank")
    if [[ -z $victim ]]; then
      note="the job ended before the kill at ${at} s"
      wait "$mpirun"
    else
      kill -9 "$victim"
      note="kill -9 rank $rank at ${at} s"
      wait_for "$mpirun" 120
      check "killed job ends non-zero by itself" $((rc == 0 || rc == 124))
      "${MPI3[@]}" "$PDS" train --resume "$run" >>"$log" 2>&1
      check "resumed job exits 0" $?
    fi
    ;;
  kill_checkpoint)
    local at=("checkpoint" "checkpoint_state")
    local where=${at[$((RANDOM % 2))]}
    local step=$((50 * (2 + RANDOM % 3)))
    note="SIGKILL at $where of step $step"
    timeout -k 10 120 "${MPI3[@]}" "$PDS" train "${job[@]}" --set online.fault='"kill_trainer"' \
      --set online.fault_at="\"$where\"" --set online.fault_step=$step --set output.dir="$run" >"$log" 2>&1
    rc=$?
    check "killed job ends non-zero by itself" $((rc == 0 || rc == 124))
    "${MPI3[@]}" "$PDS" train --resume "$run" --set online.fault='"none"' >>"$log" 2>&1
    check "resumed job exits 0" $?
    grep -q "resumed $run at step $((step - 50))" "$log"
    check "resumed from the previous checkpoint (step $((step - 50)))" $?
    ;;
  throw | nan | hang | corrupt_data)
    local sample=$((RANDOM % SAMPLES)) step=$((RANDOM % FRAMES))
    note="sample $sample, output $step"
    "${MPI3[@]}" "$PDS" train "${job[@]}" --set online.fault="\"$fault\"" --set online.fault_samples="[$sample]" \
      --set online.fault_step=$step --set online.fault_hang=8 --set output.dir="$run" >"$log" 2>&1
    check "job exits 0" $?
    # A hang is a timeout only while the simulations could send: with the FIFO buffer full
    # (backpressure) silence is expected, so a hang then only delays the simulation.
    local outcome
    outcome=$($PY -c "import json; s = json.load(open('$run/online_summary.json'))
f = [x for x in s['failures'] if x['sample'] == $sample]
print('redrawn' if s['sims_failed'] == 1 and f and $sample not in s['done_samples'] else
      'late' if '$fault' == 'hang' and s['sims_failed'] == 0 and $sample in s['done_samples'] else 'wrong')")
    [[ $outcome != wrong ]]
    check "the faulty simulation failed and was redrawn (a hang: or finished late)" $?
    [[ $outcome == late ]] && note+=" (finished late: the buffer was full)"
    ;;
  disk_checkpoint)
    # The run directory on a 64 MB tmpfs that another writer fills 0-3 s after the first
    # checkpoint appears: a later checkpoint fails; then --resume on a roomy disk.
    local delay
    delay=$(uniform 0 3)
    note="tmpfs filled ${delay} s after the first checkpoint"
    mount_tmpfs 64m || return
    "${MPI3[@]}" "$PDS" train "${job[@]}" --set output.dir="$TMPFS/run" >"$log" 2>&1 &
    local mpirun=$!
    until [[ -e $TMPFS/run/checkpoint.pt ]] || ! kill -0 "$mpirun" 2>/dev/null; do sleep 0.02; done
    sleep "$delay"
    dd if=/dev/zero of="$TMPFS/filler" bs=64k 2>/dev/null
    wait_for "$mpirun" 120
    if ((rc == 0)); then
      note+=" (the job finished first)"
    else
      check "the job on the full disk ends by itself" $((rc == 124))
      one_line_error "$log"
      check "one error line" $?
      grep -E "^pdestream.*(disk full|cannot write)" "$log" >/dev/null
      check "the error names the failed write" $?
      [[ -z $(find "$TMPFS/run" -name '*.tmp' -o -name '*.partial') ]]
      check "no temporary file left" $?
    fi
    rm -rf "$run"
    cp -a "$TMPFS/run" "$run"
    umount "$TMPFS"
    if ((rc != 0)); then
      # --resume goes on from the last checkpoint that was complete before the disk filled.
      local last
      last=$(ls "$run" | sed -n 's/^online_state_\([0-9]*\)\.json$/\1/p' | sort -n | tail -1)
      "${MPI3[@]}" "$PDS" train --resume "$run" >>"$log" 2>&1
      check "resumed on a roomy disk exits 0" $?
      grep -q "resumed $run at step $last" "$log"
      check "resumed from the last complete checkpoint (step $last)" $?
    fi
    ;;
  disk_generate | disk_generate_unreserved)
    # 64 samples x 21 frames of 64² float32 (23 MB) on a 30 MB tmpfs that another writer
    # fills 0-2 s after the dataset file appears. Reserved (the default), generate must
    # finish with every sample in the file. Unreserved, it must end with one line and no
    # file; its delay counts from the first round, after HDF5 wrote the file's metadata
    # (a full disk during that write can still hang HDF5 1.10: see the README).
    local delay reserve=true
    [[ $fault == disk_generate_unreserved ]] && reserve=false
    delay=$(uniform 0 2)
    mount_tmpfs 30m || return
    mpiexec --bind-to none -n 2 "$PDS" generate "${job[@]}" --set solver.nx=64 --set solver.ny=64 --samples 64 \
      --out "$TMPFS/data.h5" --set output.dir="$TMPFS/gen" --set output.reserve=$reserve >"$log" 2>&1 &
    local job_pid=$! since="the file appeared"
    until [[ -e $TMPFS/data.h5.partial ]] || ! kill -0 "$job_pid" 2>/dev/null; do sleep 0.02; done
    if [[ $reserve == false ]]; then
      since="the first round"
      until grep -q "2/64 samples" "$log" || ! kill -0 "$job_pid" 2>/dev/null; do sleep 0.02; done
    fi
    sleep "$delay"
    dd if=/dev/zero of="$TMPFS/filler" bs=64k 2>/dev/null
    local running=$((1 - $(kill -0 "$job_pid" 2>/dev/null; echo $?)))
    wait_for "$job_pid" 120
    note="tmpfs filled ${delay} s after $since"
    ((running)) || note+=" (generate finished first)"
    if [[ $reserve == true ]]; then
      check "generate on the full disk finishes" $rc
      $PY tests/apps/check_dataset.py "$TMPFS/data.h5" 64 >/dev/null 2>&1
      check "every sample in the dataset" $?
    elif ((running)); then
      check "generate on the full disk ends by itself, non-zero" $((rc == 0 || rc == 124))
      one_line_error "$log"
      check "one error line" $?
      [[ ! -e $TMPFS/data.h5 && ! -e $TMPFS/data.h5.partial ]]
      check "no dataset or partial file left" $?
      note+=": $(grep -m1 "^pdestream.*error:" "$log" | sed 's/^pdestream generate: error: //' | cut -c1-60)"
    fi
    umount "$TMPFS"
    echo -e "$fault\t$k\t-\t-\t-\t-\t$pass\t$checks\t$note" >>"$TRIALS_TSV"
    return
    ;;
  esac
  record "$fault" "$k" "$run" "$pass" "$checks" "$note"
}

for fault in $FAULTS; do
  for k in $(seq 1 "$TRIALS"); do
    # The timings of the kills are fractions of the clean run's wall time.
    if [[ $fault != clean && -z ${CLEAN_WALL[$k]:-} && $fault == kill_* ]]; then
      t0=$SECONDS
      "${MPI3[@]}" "$PDS" train "${JOB[@]}" --set sampler.seed=$((100 + k)) --set output.dir="$OUT/timing-$k" >/dev/null 2>&1
      CLEAN_WALL[$k]=$((SECONDS - t0))
    fi
    echo "[faults] $fault, trial $k" >&2
    run_trial "$fault" "$k"
    tail -1 "$TRIALS_TSV" >&2
  done
done

$PY - "$TRIALS_TSV" "$SAMPLES" "$FRAMES" "$(nproc)" <<'PY'
import math, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
budget, frames, cores = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def mean_err(fault):
    v = [float(r[5]) for r in rows if r[0] == fault and r[5] not in ("", "-", "nan")]
    return sum(v) / len(v) if v else math.nan
clean = mean_err("clean")
print()
print(f"heat2d 32² x {frames} frames, {budget} training + 4 validation simulations, FNO width 20 / 8 modes, batch 8, checkpoints every 50 steps, "
      f"FIFO buffer, 1 trainer + 2 simulation ranks, {cores} cores")
print()
print("| fault | trials | jobs finished | samples lost | duplicated samples | final val. rel. L2 (clean "
      f"{clean:.4f}) | checks passed | trials' faults |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
for fault in dict.fromkeys(r[0] for r in rows):
    rs = [r for r in rows if r[0] == fault]
    if rs[0][2] == "skip":
        print(f"| {fault} | {len(rs)} | skipped | | | | | {rs[0][8]} |")
        continue
    err = mean_err(fault)
    fin = "-" if rs[0][2] == "-" else f"{sum(int(r[2]) for r in rs)}/{len(rs)}"
    lost = "-" if rs[0][3] == "-" else str(sum(int(r[3]) for r in rs))
    dup = "-" if rs[0][4] == "-" else str(sum(int(r[4]) for r in rs))
    e = "-" if math.isnan(err) else f"{err:.4f}"
    checks = f"{sum(int(r[6]) for r in rs)}/{sum(int(r[7]) for r in rs)}"
    notes = "; ".join(dict.fromkeys(r[8] for r in rs if r[8]))[:160]
    print(f"| {fault} | {len(rs)} | {fin} | {lost} | {dup} | {e} | {checks} | {notes} |")
PY
