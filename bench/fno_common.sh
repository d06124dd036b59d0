# Sourced by bench/fno_burgers.sh and bench/fno_ns2d.sh: the FNO paper benchmarks share
# their data step (a config's dataset, generated once on 2 ranks and reused after) and
# their training step (the paper's schedule shape: lr halved every EPOCHS/5 epochs).
#   generate_once BIN CFG H5 OUT            sets gen_s: seconds, or "(reused)"
#   train_fno BIN CFG H5 OUT EPOCHS [--set KEY=VALUE ...]
#                                           trains into OUT/train (log in OUT/train.log),
#                                           prints its last lines, sets train_s
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

generate_once() {
  local bin=$1 cfg=$2 h5=$3 out=$4
  mkdir -p "$out"
  if [[ -f "$h5" ]]; then
    gen_s="(reused)"
    return
  fi
  SECONDS=0
  mpiexec --bind-to none -n 2 "$bin/pdestream" generate --config "$cfg" --out "$h5" \
    --set output.dir="$out/generate" | tail -1
  gen_s=$SECONDS
}

train_fno() {
  local bin=$1 cfg=$2 h5=$3 out=$4 epochs=$5
  shift 5
  local step=$(( epochs / 5 > 0 ? epochs / 5 : 1 ))
  rm -rf "$out/train"
  SECONDS=0
  "$bin/pdestream" train --config "$cfg" --set data.path="$h5" --set training.epochs="$epochs" \
    --set training.step_epochs=$step --set output.dir="$out/train" "$@" | tee "$out/train.log" | tail -3
  train_s=$SECONDS
}
