#!/usr/bin/env bash
# Several files as one dataset ([data] paths), each with its own parameter values, as
# PDEBench ships one file per beta: the split holds out the last trajectories of each file,
# the model is conditioned on beta, evaluate breaks the error down by beta; the error paths.
#   train_paths.sh EXPECT_SH PDESTREAM TRAIN_CFG   (in the test work directory: train_data.h5, burg.h5)
set -euo pipefail
expect=$1 pds=$2 cfg=$3
cp train_data.h5 train_data_b.h5
common=(train --config "$cfg" --set data.path='""' --set model.width=8 --set model.modes=4
  --set training.batch_size=8 --set training.threads=1
  --set 'data.paths=["train_data.h5", "train_data_b.h5"]' --set 'data.params=[{beta = 0.1}, {beta = 0.4}]'
  --set 'task.condition=["beta"]')
bash "$expect" ok 'data: train_data.h5 .[+]1 files. .20 training, 4 validation' "$pds" "${common[@]}" --dry-run
bash "$expect" ok 'on 100 examples from 20 trajectories.*done: step 13,' "$pds" "${common[@]}" \
  --set training.epochs=1 --set output.dir=train_paths
bash "$expect" ok 'on 4 trajectories of train_data.h5 .[+]1 files.*by beta: 0.1 [0-9.e-]+ .2. 0.4 [0-9.e-]+ .2.' \
  "$pds" evaluate --run train_paths
bash "$expect" fail 'params: expected one table per file of paths .2., got 1' "$pds" "${common[@]}" \
  --set 'data.params=[{beta = 0.1}]'
bash "$expect" fail 'paths: expected path or paths, got both' "$pds" "${common[@]}" --set data.path=train_data.h5
bash "$expect" fail 'burg.h5: expected the grid and channels of train_data.h5' "$pds" "${common[@]}" \
  --set 'data.paths=["train_data.h5", "burg.h5"]'
echo PASSED
