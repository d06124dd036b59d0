# Sourced by bench/faults.sh and tests/apps/online_kill.sh, which each wait for an mpirun
# that a fault may have left hanging.
# wait_for PID SECONDS: waits at most SECONDS for background process PID; its exit code in
# $rc, or 124 after killing it (and its children: mpirun's local ranks) if it did not end.
wait_for() {
  local pid=$1 deadline=$(($(date +%s) + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if (($(date +%s) > deadline)); then
      pkill -9 -P "$pid"; kill -9 "$pid"; wait "$pid" 2>/dev/null; rc=124; return
    fi
    sleep 0.1
  done
  wait "$pid"; rc=$?
}
