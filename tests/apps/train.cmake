# End-to-end tests of `pdestream train` (included from tests/apps/CMakeLists.txt, which
# defines cli_test, EXPECT, PDS, MPI2 and CFG). A tiny heat2d dataset, then dry run,
# training on 1 and 2 ranks, resume, and the error paths.
set(TRAIN_CFG ${PROJECT_SOURCE_DIR}/configs/heat2d_fno.toml)
set(TINY_DATA --set solver.nx=16 --set solver.ny=16 --set solver.outputs=4 --set solver.steps_per_output=2)
set(TINY_MODEL --set data.path=train_data.h5 --set model.width=8 --set model.modes=4 --set training.batch_size=8
    --set training.threads=1)

cli_test(train_data "unit" ${EXPECT} ok "wrote train_data.h5: 12 samples"
  ${PDS} generate --config ${CFG} ${TINY_DATA} --samples 12 --out train_data.h5 --set output.dir=train_gen)
set_tests_properties(cli_train_data PROPERTIES FIXTURES_SETUP train_data)

cli_test(train_dry_run "unit" ${EXPECT} ok "fno: [0-9]+ parameters.*data: train_data.h5 \\(10 training, 2 validation"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --dry-run)
cli_test(train_np1 "unit" ${EXPECT} ok "done: step 14, .*validation relative L2"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set training.epochs=2 --set output.dir=train1)
cli_test(train_np2 "mpi" ${EXPECT} ok "2 trainer rank.*done: step 14"
  ${MPI2} ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set training.epochs=2 --set output.dir=train2)
set_tests_properties(cli_train_dry_run cli_train_np1 cli_train_np2 PROPERTIES FIXTURES_REQUIRED train_data)
set_tests_properties(cli_train_np1 PROPERTIES FIXTURES_SETUP train_run)
cli_test(train_resume "unit" ${EXPECT} ok "resumed train1 at step 14.*done: step 21"
  ${PDS} train --resume train1 --set training.epochs=3)
set_tests_properties(cli_train_resume PROPERTIES FIXTURES_REQUIRED "train_data;train_run")
cli_test(train_outputs "unit" bash -c "test -s train1/model.safetensors && test -s train1/checkpoint.pt && \
  grep -q '\"val_rel_l2\"' train1/metrics.jsonl && grep -q 'name = \"fno\"' train1/config.toml")
set_tests_properties(cli_train_outputs PROPERTIES FIXTURES_REQUIRED train_run DEPENDS cli_train_resume)

# Unrolled training: 2 steps of the autoregressive task through the rollout objective with
# the tanh curriculum, on 1 and 2 ranks; its terms reach metrics.jsonl; the supervised
# objective refuses unrolled targets in one line.
set(UNROLL --set task.kind=\"autoregressive\" --set task.history=1 --set task.unroll=2
    --set training.objective=\"rollout\" --set training.curriculum=\"tanh\" --set training.epochs=2
    --set training.log_every=1)
cli_test(train_unroll "unit" ${EXPECT} ok "done: step [0-9]+, .*validation relative L2"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} ${UNROLL} --set output.dir=train_unroll)
set_tests_properties(cli_train_unroll PROPERTIES FIXTURES_SETUP train_unroll_run)
cli_test(train_unroll_metrics "unit" bash -c "grep -q t_ar train_unroll/metrics.jsonl && grep -q loss_last_step train_unroll/metrics.jsonl")
set_tests_properties(cli_train_unroll_metrics PROPERTIES FIXTURES_REQUIRED train_unroll_run)
cli_test(train_unroll_np2 "mpi" ${EXPECT} ok "2 trainer rank.*done: step [0-9]+"
  ${MPI2} ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} ${UNROLL} --set output.dir=train_unroll2)
cli_test(err_train_unroll_supervised "unit" ${EXPECT} fail "targets hold 2 frames .*objective = .rollout."
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set task.kind=\"autoregressive\" --set task.unroll=2
  --set output.dir=train_unroll_bad)
set_tests_properties(cli_train_unroll cli_train_unroll_np2 cli_err_train_unroll_supervised PROPERTIES
  FIXTURES_REQUIRED train_data)

# Conditioning on named parameters ([task] condition): an autoregressive FNO told log(alpha)
# (min-max from the training trajectories) and a value the file lacks ([data] params, beta).
# The model file keeps the bound ranges; evaluate finds beta in the run's [data] params or in
# --param, and names it when neither has it. 2 ranks train the same model as 1 rank.
set(COND --set task.kind=\"autoregressive\" --set task.history=1 --set "task.condition=[\"alpha\",\"beta\"]"
    --set "task.condition_transform=[\"log_minmax\",\"none\"]")
cli_test(train_condition "unit" ${EXPECT} ok "done: step 5,"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} ${COND} --set "data.params={beta=0.4}" --set training.epochs=1
  --set output.dir=train_cond1)
cli_test(train_condition_np2 "mpi" ${EXPECT} ok "2 trainer rank.*done: step 5,"
  ${MPI2} ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} ${COND} --set "data.params={beta=0.4}"
  --set training.epochs=1 --set output.dir=train_cond2)
set_tests_properties(cli_train_condition cli_train_condition_np2 PROPERTIES FIXTURES_REQUIRED train_data
  FIXTURES_SETUP train_condition)
cli_test(train_condition_outputs "unit" bash -c "set -e
  ${PY} -c \"import json, struct, h5py
raw = open('train_cond1/model.safetensors', 'rb').read()
meta = json.loads(raw[8:8 + struct.unpack('<Q', raw[:8])[0]])['__metadata__']
task, model = json.loads(meta['task']), json.loads(meta['model'])
p = h5py.File('train_data.h5')['params'][:10, 0]
assert task['condition'] == ['alpha', 'beta'] and model['cond_dim'] == 2, (task, model)
assert task['condition_range'][0] == [p.min(), p.max()], (task['condition_range'], p.min(), p.max())
n = json.loads(meta['cond_normalizer'])
import math
lo, hi = math.log(p.min()), math.log(p.max())
assert n['names'] == ['alpha', 'beta'] and n['log'] == [True, False], n
assert abs(n['scale'][0] * lo + n['shift'][0]) < 1e-9 and abs(n['scale'][0] * hi + n['shift'][0] - 1) < 1e-9, n
assert n['scale'][1] == 1 and n['shift'][1] == 0, n
print('condition ranges from the training trajectories')\"
  ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/same_weights.py train_cond1/model.safetensors train_cond2/model.safetensors --atol 1e-5
  ${EXPECT_STR} ok 'autoregressive on 2 trajectories' $<TARGET_FILE:pdestream> evaluate --run train_cond1
  ${EXPECT_STR} ok 'autoregressive on 12 trajectories' $<TARGET_FILE:pdestream> evaluate --run train_cond1 \
    --data train_data.h5 --param beta=0.4 --out cond_pred.h5
  ${PY} -c \"import h5py
f = h5py.File('cond_pred.h5')
assert list(f['params'].attrs['param_names'])[-1] in ('beta', b'beta') and (f['params'][:, -1] == 0.4).all()
print('predictions carry beta')\"
  ${EXPECT_STR} fail 'parameter .beta. is not in train_data.h5 .it has: alpha, t_init' \
    $<TARGET_FILE:pdestream> evaluate --run train_cond1 --data train_data.h5
  ${EXPECT_STR} fail '--param beta=x: expected name=number' \
    $<TARGET_FILE:pdestream> evaluate --run train_cond1 --data train_data.h5 --param beta=x")
set_tests_properties(cli_train_condition_outputs PROPERTIES FIXTURES_REQUIRED "train_data;train_condition"
  DEPENDS "cli_train_condition;cli_train_condition_np2")
cli_test(err_train_condition_missing "unit" ${EXPECT} fail
  "parameter .nu. is not in train_data.h5 .it has: alpha, t_init, t_left, t_right, t_bottom, t_top.. set it with .data. params"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set "task.condition=[\"nu\"]" --set output.dir=train_cond_bad)
cli_test(err_train_condition_params_clash "unit" ${EXPECT} fail
  "parameter alpha is given as .data. params .or --param., but the file has it too"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set "data.params={alpha=1}" --set output.dir=train_cond_bad)
set_tests_properties(cli_err_train_condition_missing cli_err_train_condition_params_clash PROPERTIES
  FIXTURES_REQUIRED train_data)

# validate_rollout: the validation error is a rollout over the horizon (2 frames here) from
# each held-out trajectory's first frame, the number evaluate reports for that run.
cli_test(train_validate_rollout "unit" bash -c "${EXPECT_STR} ok 'done: step 10, .*validation relative L2' \
  $<TARGET_FILE:pdestream> train --config ${TRAIN_CFG} --set data.path=train_data.h5 --set model.width=8 \
  --set model.modes=4 --set training.batch_size=8 --set training.threads=1 --set training.epochs=2 \
  --set task.kind=\\\"autoregressive\\\" --set task.history=1 --set task.horizon=2 --set training.validate_rollout=true \
  --set output.dir=train_vr && ${EXPECT_STR} ok 'autoregressive on 2 trajectories' \
  $<TARGET_FILE:pdestream> evaluate --run train_vr && ${PY} -c \"import json
v = [json.loads(l) for l in open('train_vr/metrics.jsonl') if 'val_rel_l2' in l][-1]['val_rel_l2']
e = json.load(open('train_vr/evaluation.json'))
assert len(e['per_step']) == 2 and abs(e['mean'] - v) < 1e-5 * v, (e['mean'], v, e['per_step'])
print('validation', v, '= the 2-step rollout evaluate measures', e['mean'])\"")
cli_test(err_train_validate_rollout "unit" ${EXPECT} fail "validate_rollout: expected the autoregressive task, got field_at_time"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set training.validate_rollout=true --set output.dir=train_vr_bad)
set_tests_properties(cli_train_validate_rollout cli_err_train_validate_rollout PROPERTIES FIXTURES_REQUIRED train_data)

# The pointwise task (DeepONet's examples): an MLP on blocks of 64 (x, y, t) points,
# conditioned on the six heat2d parameters; 2 ranks train the same weights as 1 rank, and
# evaluate reassembles its predictions on the full grid for ParaView, PNG and HDF5.
set(POINTWISE --config ${PROJECT_SOURCE_DIR}/configs/heat2d_pointwise.toml --set online.enabled=false
    --set data.path=train_data.h5 --set "model.hidden=[32, 32]" --set task.points=64 --set training.batch_size=8
    --set training.threads=1 --set training.epochs=2)
cli_test(train_pointwise "unit" ${EXPECT} ok "mlp .* on 200 examples from 10 trajectories.*done: step 50,"
  ${PDS} train ${POINTWISE} --set output.dir=train_pw1)
cli_test(train_pointwise_np2 "mpi" ${EXPECT} ok "2 trainer rank.*done: step 50,"
  ${MPI2} ${PDS} train ${POINTWISE} --set output.dir=train_pw2)
set_tests_properties(cli_train_pointwise cli_train_pointwise_np2 PROPERTIES FIXTURES_REQUIRED train_data
  FIXTURES_SETUP train_pointwise)
cli_test(train_pointwise_outputs "mpi" bash -c "set -e
  ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/same_weights.py train_pw1/model.safetensors train_pw2/model.safetensors --atol 1e-5
  ${EXPECT_STR} ok 'mlp / pointwise on 2 trajectories.*nRMSE.*sample10.png' ${MPIEXEC_EXECUTABLE} -n 2 \
    --allow-run-as-root --oversubscribe --bind-to none $<TARGET_FILE:pdestream> evaluate --run train_pw1 \
    --paraview pw_eval --png pw_png --out pw_pred.h5
  test -s pw_eval/sample10.pvd && test -s pw_png/sample11.png
  ${PY} -c \"import h5py, numpy as np
p, d = h5py.File('pw_pred.h5')['tensor'], h5py.File('train_data.h5')['tensor']
assert p.shape == (2,) + d.shape[1:], p.shape
err = np.linalg.norm(p[:] - d[10:12]) / np.linalg.norm(d[10:12])
assert err < 1.0, err
print('pointwise predictions on the full grid, relative L2', err)\"")
set_tests_properties(cli_train_pointwise_outputs PROPERTIES FIXTURES_REQUIRED "train_data;train_pointwise"
  DEPENDS "cli_train_pointwise;cli_train_pointwise_np2")
cli_test(err_train_pointwise_field_model "unit" ${EXPECT} fail "pointwise task needs a model that takes points"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set task.kind=\"pointwise\" --set output.dir=train_pw_bad)
set_tests_properties(cli_err_train_pointwise_field_model PROPERTIES FIXTURES_REQUIRED train_data)

# Several files as one dataset ([data] paths), each with its own params (see the script).
cli_test(train_paths "unit" bash ${CMAKE_CURRENT_SOURCE_DIR}/train_paths.sh ${CMAKE_CURRENT_SOURCE_DIR}/expect.sh
  ${PDS} ${TRAIN_CFG})
set_tests_properties(cli_train_paths PROPERTIES FIXTURES_REQUIRED "train_data;burg_fno")

# training.seed decides the initial weights: two runs with seed 0 write the same model,
# seed 1 another one (0 epochs: the initial model is what is saved).
cli_test(train_seed_reproducible "unit" bash -c "set -e
  for r in a:0 b:0 c:1
  do $<TARGET_FILE:pdestream> train --config ${TRAIN_CFG} --set data.path=train_data.h5 \
    --set model.width=8 --set model.modes=4 --set training.threads=1 --set training.epochs=0 \
    --set training.seed=\${r#*:} --set output.dir=seed_\${r%:*} >/dev/null
  done
  ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/same_weights.py seed_a/model.safetensors seed_b/model.safetensors
  if ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/same_weights.py seed_a/model.safetensors seed_c/model.safetensors
  then echo 'FAILED: seed 1 gave seed 0 weights'
    exit 1
  fi
  echo PASSED")
set_tests_properties(cli_train_seed_reproducible PROPERTIES FIXTURES_REQUIRED train_data)

cli_test(err_train_missing_data "unit" ${EXPECT} fail "nothere.h5"
  ${PDS} train --config ${TRAIN_CFG} --set data.path=nothere.h5)
cli_test(err_train_unknown_model "unit" ${EXPECT} fail "\\[model\\] name: expected one of: cape, deeponet, fno, mlp, pde_refiner, unet, unet_modern, got \"fnoo\""
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set model.name=fnoo)
cli_test(err_train_bad_key "unit" ${EXPECT} fail "\\[training\\] epoch: unknown key"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set training.epoch=3)
cli_test(err_train_no_config "unit" ${EXPECT} fail "train needs --config FILE or --resume RUN_DIR" ${PDS} train)
cli_test(err_train_resume_missing "unit" ${EXPECT} fail "--resume nowhere: no config.toml there"
  ${PDS} train --resume nowhere)
set_tests_properties(cli_err_train_unknown_model cli_err_train_bad_key PROPERTIES FIXTURES_REQUIRED train_data)

# evaluate: the held-out split and a whole file, on 1 and 2 ranks, with ParaView and HDF5.
cli_test(evaluate_np1 "unit" ${EXPECT} ok "field_at_time on 2 trajectories.*relative L2: mean [0-9.e-]+, median"
  ${PDS} evaluate --run train1 --paraview eval1 --out eval1.h5)
cli_test(evaluate_np2 "mpi" ${EXPECT} ok "on 12 trajectories of train_data.h5.*predictions: eval2.h5"
  ${MPI2} ${PDS} evaluate --run train1 --data train_data.h5 --out eval2.h5)
set_tests_properties(cli_evaluate_np1 cli_evaluate_np2 PROPERTIES FIXTURES_REQUIRED "train_data;train_run"
  FIXTURES_SETUP evaluated DEPENDS cli_train_resume)
set_tests_properties(cli_evaluate_np2 PROPERTIES DEPENDS "cli_train_resume;cli_evaluate_np1")
cli_test(evaluate_outputs "unit" ${PY} -c "import h5py, numpy as np, json
a = h5py.File('eval1.h5'); b = h5py.File('eval2.h5'); d = h5py.File('train_data.h5')
assert a['tensor'].shape == (2, 5, 16, 16), a['tensor'].shape
assert b['tensor'].shape == (12, 5, 16, 16), b['tensor'].shape
assert np.allclose(a['tensor'][:], b['tensor'][10:12], atol=1e-6), 'held-out predictions differ between runs'
assert np.allclose(b['params'][:], d['params'][:])
e = json.load(open('train1/evaluation.json'))
assert len(e['relative_l2']) == 12 and abs(e['mean'] - sum(e['relative_l2']) / 12) < 1e-12
import os; assert os.path.exists('eval1/sample10.pvd') and os.path.exists('eval1/sample11.pvd')
print('evaluate outputs consistent')")
set_tests_properties(cli_evaluate_outputs PROPERTIES FIXTURES_REQUIRED evaluated DEPENDS "cli_evaluate_np1;cli_evaluate_np2")
cli_test(evaluate_set "unit" ${EXPECT} ok "field_at_time on 6 trajectories"
  ${PDS} evaluate --run train1 --set data.validation_fraction=0.5)
set_tests_properties(cli_evaluate_set PROPERTIES FIXTURES_REQUIRED "train_data;train_run" DEPENDS cli_evaluate_outputs)
# PDEBench's metrics, the high-correlation time and the error by parameter value, printed
# and in evaluation.json.
cli_test(evaluate_metrics "unit" bash -c "${EXPECT_STR} ok \
  'nRMSE [0-9.e-]+, RMSE [0-9.e-]+, cRMSE [0-9.e-]+. correlation stays > 0.8 for [0-9]+ of 5 frames, > 0.9 .*by alpha: \\[' \
  $<TARGET_FILE:pdestream> evaluate --run train1 --set data.validation_fraction=0.5 && ${PY} -c \"import json
j = json.load(open('train1/evaluation.json'))
assert 0 < j['nrmse'] < 2 and j['crmse'] >= 0, j
assert len(j['correlation_per_step']) == 5 and set(j['high_correlation_time']) == {'0.8', '0.9', '0.95'}, j
assert sum(g['count'] for g in next(iter(j['by_parameter'].values()))) == 6, j['by_parameter']
print('evaluation.json has the metrics')\"")
set_tests_properties(cli_evaluate_metrics PROPERTIES FIXTURES_REQUIRED "train_data;train_run" DEPENDS cli_evaluate_outputs)

# The held-out trajectories come from the one split that train uses (training::split_dataset):
# [data] validation_path is honoured, and validation_fraction = 0 holds none out.
cli_test(evaluate_validation_path "unit" ${EXPECT} ok "field_at_time on 12 trajectories of train_data.h5"
  ${PDS} evaluate --run train1 --set data.validation_path=\"train_data.h5\" --set data.validation_fraction=0.5)
cli_test(err_evaluate_none_held_out "unit" ${EXPECT} fail "run train1 held no trajectories out .*--data FILE"
  ${PDS} evaluate --run train1 --set data.validation_fraction=0)
cli_test(train_dry_run_none_held_out "unit" ${EXPECT} ok "data: train_data.h5 \\(12 training, 0 validation"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set data.validation_fraction=0 --dry-run)
set_tests_properties(cli_evaluate_validation_path cli_err_evaluate_none_held_out PROPERTIES
  FIXTURES_REQUIRED "train_data;train_run" DEPENDS cli_evaluate_outputs)
set_tests_properties(cli_train_dry_run_none_held_out PROPERTIES FIXTURES_REQUIRED train_data)
cli_test(err_evaluate_bad_set "unit" ${EXPECT} fail "unknown section \\[dta\\]"
  ${PDS} evaluate --run train1 --set dta.path=x.h5)
set_tests_properties(cli_err_evaluate_bad_set PROPERTIES FIXTURES_REQUIRED train_run)
# Every evaluate --run train1 rewrites train1/evaluation.json: those that run at the same time
# would read each other's file (cli_evaluate_metrics once saw cli_evaluate_validation_path's).
set_tests_properties(cli_evaluate_np1 cli_evaluate_np2 cli_evaluate_outputs cli_evaluate_set cli_evaluate_metrics
  cli_evaluate_validation_path cli_err_evaluate_none_held_out cli_err_evaluate_bad_set PROPERTIES
  RESOURCE_LOCK train1_evaluation)
cli_test(err_evaluate_no_run "unit" ${EXPECT} fail "--run nowhere: no model.safetensors there" ${PDS} evaluate --run nowhere)
# evaluate --png on 2 ranks: one figure per sample (rows t = early, middle, final; panels
# prediction | truth | error of 360 x 300 pixels), one report line per file in order.
cli_test(evaluate_png "mpi" bash -c "${EXPECT_STR} ok \
  'PNG .* evalpng/sample10.png: t = [0-9.e-]+ u \\[[0-9.e-]+, [0-9.e-]+\\] error [+]-[0-9.e-]+ [|] t = .* evalpng/sample11.png: t = ' \
  ${MPIEXEC_EXECUTABLE} -n 2 --allow-run-as-root --oversubscribe --bind-to none $<TARGET_FILE:pdestream> evaluate \
  --run train1 --png evalpng --png-samples 2 && test ! -e evalpng/sample12.png && \
  ${CHECK_PNG} 1080 900 evalpng/sample10.png evalpng/sample11.png")
# (after evaluate_outputs, which checks the evaluation.json that every evaluate rewrites)
set_tests_properties(cli_evaluate_png PROPERTIES FIXTURES_REQUIRED "train_data;train_run"
  DEPENDS "cli_train_resume;cli_evaluate_outputs" RESOURCE_LOCK train1_evaluation)

# The FNO-paper configs end to end at toy sizes: Burgers (operator task, FNO1d) and
# Navier-Stokes (autoregressive task, FNO2d with rollout evaluation).
set(BURGERS_FNO ${PROJECT_SOURCE_DIR}/configs/burgers_fno.toml)
set(NS_FNO ${PROJECT_SOURCE_DIR}/configs/ns2d_fno.toml)
cli_test(fno_burgers_e2e "mpi" bash -c "${MPIEXEC_EXECUTABLE} -n 2 --allow-run-as-root --oversubscribe --bind-to none \
  $<TARGET_FILE:pdestream> generate --config ${BURGERS_FNO} --samples 8 --set solver.solve_nx=1024 --set solver.nx=64 \
  --out burg.h5 --set output.dir=burg_gen && \
  ${EXPECT_STR} ok 'fno \\(.*parameters\\) on 7 examples from 7 trajectories.*done: step 2' \
  $<TARGET_FILE:pdestream> train --config ${BURGERS_FNO} --set data.path=burg.h5 --set data.validation_fraction=0.125 \
  --set model.width=8 --set model.modes=4 --set training.epochs=2 --set training.batch_size=8 --set output.dir=burg_fno && \
  ${EXPECT_STR} ok 'fno / operator on 1 trajectories' $<TARGET_FILE:pdestream> evaluate --run burg_fno")
set_tests_properties(cli_fno_burgers_e2e PROPERTIES FIXTURES_SETUP burg_fno)
# 1D fields become line plots: the operator task's one target row, prediction and truth
# against x, then the error (2 panels of 360 x 300 pixels).
cli_test(evaluate_png_1d "unit" bash -c "${EXPECT_STR} ok 'burg_png/sample7.png: t = 1' \
  $<TARGET_FILE:pdestream> evaluate --run burg_fno --png burg_png && ${CHECK_PNG} 720 300 burg_png/sample7.png")
set_tests_properties(cli_evaluate_png_1d PROPERTIES FIXTURES_REQUIRED burg_fno)
cli_test(fno_ns2d_e2e "mpi" bash -c "${MPIEXEC_EXECUTABLE} -n 2 --allow-run-as-root --oversubscribe --bind-to none \
  $<TARGET_FILE:pdestream> generate --config ${NS_FNO} --samples 4 --set solver.nx=16 --set solver.solve_nx=16 \
  --set solver.t_final=1 --set solver.outputs=6 --set solver.dt=0.01 --out ns.h5 --set output.dir=ns_gen && \
  ${EXPECT_STR} ok 'on 12 examples from 3 trajectories.*done: step 2' \
  $<TARGET_FILE:pdestream> train --config ${NS_FNO} --set data.path=ns.h5 --set data.validation_fraction=0.25 \
  --set task.history=3 --set task.horizon=4 --set model.width=8 --set model.modes=4 --set training.epochs=1 \
  --set training.batch_size=6 --set output.dir=ns_fno && \
  ${EXPECT_STR} ok 'fno / autoregressive on 1 trajectories.*error vs rollout step: +[0-9.e-]+ [0-9.e-]+ [0-9.e-]+ [0-9.e-]+ ' \
  $<TARGET_FILE:pdestream> evaluate --run ns_fno")

# CAPE end to end on PDEBench's own file layout, reduced resolution, 1 and 2 ranks (see the script).
cli_test(cape_pdebench "mpi" bash ${CMAKE_CURRENT_SOURCE_DIR}/cape_pdebench.sh ${CMAKE_CURRENT_SOURCE_DIR}/expect.sh
  ${PDS} ${PROJECT_SOURCE_DIR}/configs/advection_cape.toml ${PY} ${CMAKE_CURRENT_SOURCE_DIR} ${MPI2})
set_tests_properties(cli_cape_pdebench PROPERTIES PROCESSORS 2 TIMEOUT 600)

# The shipped Burgers and diffusion-reaction CAPE configs, end to end at a small size.
cli_test(cape_configs "unit" bash ${CMAKE_CURRENT_SOURCE_DIR}/cape_configs.sh ${CMAKE_CURRENT_SOURCE_DIR}/expect.sh
  ${PDS} ${PROJECT_SOURCE_DIR}/configs ${PY})
set_tests_properties(cli_cape_configs PROPERTIES TIMEOUT 300)

# A 2D CAPE on ns2d with nu as its parameter: 1 and 2 ranks, the loss falling, evaluation by nu.
cli_test(cape_ns2d "mpi" bash ${CMAKE_CURRENT_SOURCE_DIR}/cape_ns2d.sh ${CMAKE_CURRENT_SOURCE_DIR}/expect.sh
  ${PDS} ${NS_FNO} ${PY} ${CMAKE_CURRENT_SOURCE_DIR} ${MPI2})
set_tests_properties(cli_cape_ns2d PROPERTIES PROCESSORS 2 TIMEOUT 300)

# pdearena's modern U-Net on ks1d data, end to end (a small one: hidden 8, two levels).
set(KS_CFG ${PROJECT_SOURCE_DIR}/configs/ks.toml)
cli_test(unet_modern_ks "unit" bash -c "$<TARGET_FILE:pdestream> generate --config ${KS_CFG} --samples 4 \
  --set solver.t_final=4.0 --set solver.burn_in=20 --out ks_um.h5 --set output.dir=ks_um_gen && \
  ${EXPECT_STR} ok 'unet_modern .* on 60 examples from 3 trajectories.*done: step 16' \
  $<TARGET_FILE:pdestream> train --config ${KS_CFG} --set data.path=ks_um.h5 --set data.validation_fraction=0.25 \
  --set task.kind=autoregressive --set task.history=1 --set task.horizon=1 --set model.name=unet_modern \
  --set model.hidden=8 --set 'model.ch_mults=[1, 2]' --set training.epochs=2 --set training.batch_size=8 \
  --set output.dir=ks_um && \
  ${EXPECT_STR} ok 'unet_modern / autoregressive on 1 trajectories of ks_um.h5' \
  $<TARGET_FILE:pdestream> evaluate --run ks_um")

# PDE-Refiner and its baselines from the shipped KS configs, small: strided rollouts, the
# high-correlation times, --noise-samples in HDF5 and ParaView, 1 against 2 ranks, online.
cli_test(ks_refiner "mpi" bash ${CMAKE_CURRENT_SOURCE_DIR}/ks_refiner.sh ${CMAKE_CURRENT_SOURCE_DIR}/expect.sh
  ${PDS} ${PROJECT_SOURCE_DIR}/configs ${PY} ${MPI2})
set_tests_properties(cli_ks_refiner PROPERTIES PROCESSORS 2 TIMEOUT 600 FIXTURES_SETUP ks_refiner_runs)
# bench/pde_refiner_diagnose.py rolls out what pdestream evaluate rolls out (on those runs).
cli_test(refiner_diagnose "unit" bash ${CMAKE_CURRENT_SOURCE_DIR}/refiner_diagnose.sh ${PDS} ${PY}
  ${PROJECT_SOURCE_DIR}/bench/pde_refiner_diagnose.py)
set_tests_properties(cli_refiner_diagnose PROPERTIES FIXTURES_REQUIRED ks_refiner_runs)

# pdestream plot: an offline run's loss and validation curves and its evaluation's error per
# frame (two 360 x 300 panels each); an online run's also the buffer and waiting times.
cli_test(plot_offline "unit" bash -c "${EXPECT_STR} ok \
  'train1/plots/loss.png: training loss and validation relative L2 against step.*train1/plots/rollout.png: error and correlation' \
  ${PDS} plot train1 && ${CHECK_PNG} 720 300 train1/plots/loss.png train1/plots/rollout.png")
set_tests_properties(cli_plot_offline PROPERTIES FIXTURES_REQUIRED "train_data;train_run"
  DEPENDS cli_evaluate_outputs RESOURCE_LOCK train1_evaluation)
# (after cli_online_evaluate, whose evaluation.json gives rollout.png)
cli_test(plot_online "unit" bash -c "${EXPECT_STR} ok \
  'online_plots/rollout.png: error and correlation .*online_plots/online.png: buffer occupancy' \
  ${PDS} plot online_reservoir --out online_plots && \
  ${CHECK_PNG} 720 300 online_plots/loss.png online_plots/rollout.png online_plots/online.png")
set_tests_properties(cli_plot_online PROPERTIES FIXTURES_REQUIRED "online_run;online_evaluation")
# A run without evaluation.json: the figures of its metrics, and a note instead of rollout.png.
cli_test(plot_no_evaluation "unit" bash -c "rm -rf plot_noeval && mkdir plot_noeval && \
  cp online_reservoir/metrics.jsonl plot_noeval/ && ${EXPECT_STR} ok \
  'no rollout.png: no plot_noeval/evaluation.json.*plot_noeval/plots/online.png: buffer occupancy' \
  ${PDS} plot plot_noeval && test ! -e plot_noeval/plots/rollout.png && \
  ${CHECK_PNG} 720 300 plot_noeval/plots/loss.png plot_noeval/plots/online.png")
set_tests_properties(cli_plot_no_evaluation PROPERTIES FIXTURES_REQUIRED online_run)
cli_test(err_plot_no_run "unit" ${EXPECT} fail "'nowhere' is not a run directory" ${PDS} plot nowhere)
cli_test(err_plot_bad_metrics "unit" bash -c "mkdir -p plot_bad && printf '{\"event\":\"step\",\"step\":1,\"loss\":2}\\nnot json\\n' \
  > plot_bad/metrics.jsonl && ${EXPECT_STR} fail 'plot_bad/metrics.jsonl:2: expected a JSON object with an .event., got .not json.' \
  ${PDS} plot plot_bad && test ! -e plot_bad/plots/loss.png")
cli_test(err_plot_nothing "unit" bash -c "mkdir -p plot_empty && ${EXPECT_STR} fail \
  'nothing to plot in .plot_empty.: no step lines in metrics.jsonl and no evaluation.json' ${PDS} plot plot_empty")
