# End-to-end tests of online training (included from tests/apps/CMakeLists.txt). Real jobs
# of 3 and 4 MPI ranks: trainer ranks, simulation groups, streaming, faults and resume.
# Tiny heat2d (16², 5 frames) and a tiny FNO: these check the plumbing and the accounts.
set(ONLINE_CFG ${PROJECT_SOURCE_DIR}/configs/heat2d_fno_online.toml)
set(MPI3 ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 3 ${PDESTREAM_MPIEXEC_FLAGS})
set(MPI4 ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 4 ${PDESTREAM_MPIEXEC_FLAGS})
set(CASE bash ${CMAKE_CURRENT_SOURCE_DIR}/online_case.sh)
set(CHECKER ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/check_online.py)
set(ONLINE_TINY_JOB --set solver.nx=16 --set solver.ny=16 --set solver.outputs=4 --set solver.steps_per_output=2
    --set simulation.samples=12 --set online.validation_samples=2
    --set training.batch_size=8 --set training.threads=1 --set training.log_every=1
    --set online.buffer=\"fifo\" --set online.wait_timeout=0.2)
set(ONLINE_TINY ${ONLINE_TINY_JOB} --set model.width=8 --set model.modes=4)

function(online_test name)
  cli_test(online_${name} "mpi" ${CASE} online_${name} ${CHECKER} ${ARGN})
  set_tests_properties(cli_online_${name} PROPERTIES PROCESSORS 2 TIMEOUT 400)
endfunction()

# Exactly once: every block sent is received, every simulation is done once and (FIFO)
# every example is trained on once. 14 simulations (2 for validation) x 5 frames.
set(EXACT "s['data_sent'] == s['data_received'] == 14 * 5 * s['ranks_per_sim']" "s['sims_done'] == 12" "done == set(range(12))"
    "s['steps_received'] == 14 * 5" "s['examples_drawn'] == s['examples_received'] == 12 * 5"
    "s['sims_failed'] == 0" "s['clean_shutdown']" "once(5)")
# 2 trainer ranks + one simulation group of 2 ranks (blocks assembled from 2 ranks).
online_test(exactly_once_grouped ${EXACT} -- ${MPI4} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY}
  --set online.trainer_ranks=2 --set simulation.ranks_per_sim=2 --set output.dir=online_exactly_once_grouped)
# 2 trainer ranks + 2 groups of 1 rank, simulations spread by group.
online_test(exactly_once_groups ${EXACT} "s['trainer_ranks'] == 2 and s['simulation_groups'] == 2" --
  ${MPI4} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set online.trainer_ranks=2
  --set online.assignment=\"by_group\" --set output.dir=online_exactly_once_groups)
# 1 trainer + 2 groups with the reservoir buffer (the demo's layout); the model is usable.
online_test(reservoir "s['sims_done'] == 12" "s['data_sent'] == s['data_received']"
  "s['examples_drawn'] >= s['examples_received']" "0 < s['validation_rel_l2'] < 1.5"
  "any(r.get('event') == 'validation' for r in m)" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set online.buffer=\"reservoir\"
  --set online.buffer_capacity=40 --set online.buffer_threshold=16 --set training.validate_every=5
  --set output.dir=online_reservoir)
set_tests_properties(cli_online_reservoir PROPERTIES FIXTURES_SETUP online_run)
cli_test(online_outputs "unit" bash -c "test -s online_reservoir/model.safetensors && test -s online_reservoir/checkpoint.pt \
  && test -s online_reservoir/validation.h5 && grep -q buffer_occupancy online_reservoir/metrics.jsonl \
  && ${PY} -c \"import h5py, sys
sys.exit(h5py.File('online_reservoir/validation.h5')['tensor'].shape != (2, 5, 16, 16))\"")
set_tests_properties(cli_online_outputs PROPERTIES FIXTURES_REQUIRED online_run)
cli_test(online_evaluate "unit" ${EXPECT} ok "field_at_time on 2 trajectories.*relative L2: mean"
  ${PDS} evaluate --run online_reservoir --data online_reservoir/validation.h5)
set_tests_properties(cli_online_evaluate PROPERTIES FIXTURES_REQUIRED online_run FIXTURES_SETUP online_evaluation)

# Faults, one each: the job finishes, counts the failure with its reason, and trains on
# the rest. Sample 3 fails on its first attempt at output 2.
set(FAULT --set online.fault_samples=[3] --set online.fault_step=2)
online_test(fault_throw_retry "s['sims_failed'] == 1" "s['failure_reasons'] == {'error': 1}" "done == set(range(12))"
  "'injected fault' in s['failures'][0]['reason']" "s['failures'][0]['sample'] == 3" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${FAULT} --set online.fault=\"throw\"
  --set online.on_failure=\"retry\" --set output.dir=online_fault_throw_retry)
online_test(fault_nan_redraw "s['sims_failed'] == 1" "s['failure_reasons'] == {'non-finite': 1}"
  "len(done) == 12 and 3 not in done and 12 in done" "s['examples_drawn'] == s['examples_received'] == 12 * 5" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${FAULT} --set online.fault=\"nan\"
  --set online.on_failure=\"redraw\" --set output.dir=online_fault_nan_redraw)
# Bits flipped in one DATA block after its checksum: the trainer rejects the block, fails the
# simulation and redraws; nothing of the corrupt simulation reaches the buffer.
online_test(fault_corrupt_redraw "s['sims_failed'] == 1" "s['failure_reasons'] == {'corrupt': 1}"
  "'fails its checksum' in s['failures'][0]['reason']" "s['failures'][0]['sample'] == 3"
  "len(done) == 12 and 3 not in done" "s['examples_drawn'] == s['examples_received'] == 12 * 5" "once(5)" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${FAULT} --set online.fault=\"corrupt_data\"
  --set online.on_failure=\"redraw\" --set output.dir=online_fault_corrupt_redraw)
online_test(fault_hang_skip "s['sims_failed'] == 1" "s['failure_reasons'] == {'timeout': 1}"
  "done == set(range(12)) - {3}" "s['clean_shutdown']" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${FAULT} --set online.fault=\"hang\"
  --set online.fault_hang=4 --set online.sim_timeout=1.5 --set online.on_failure=\"skip\"
  --set output.dir=online_fault_hang_skip)
online_test(fault_keep_partial "s['sims_failed'] == 1" "s['examples_received'] == 11 * 5 + 2" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${FAULT} --set online.fault=\"nan\"
  --set online.on_failure=\"skip\" --set online.keep_partial=true --set output.dir=online_fault_keep_partial)

# A cosine schedule online (no epoch length): its horizon is estimated from the budget,
# 12 simulations x 5 examples / batch 8 = 8 steps, so the rate decays over the job instead
# of dropping to min_lr after the first step.
set(LRS "[r['lr'] for r in m if r.get('event') == 'step']")
online_test(cosine "${LRS}[0] > 1.9e-3" "${LRS}[1] > 1.5e-3" "${LRS}[-1] < 2e-4"
  "all(a >= b for a, b in zip(${LRS}, ${LRS}[1:]))" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set training.schedule=\"cosine\"
  --set training.min_lr=1e-5 --set output.dir=online_cosine)
cli_test(err_online_step_schedule "mpi" ${EXPECT} fail "schedule = .step. counts step_epochs in epochs.*set training.step_every"
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set training.schedule=\"step\"
  --set output.dir=online_step_schedule)

# Unrolled training online: stacked targets through the buffer, the normalisers fitted per
# frame, and the curriculum's horizon estimated from the budget (12 x 3 examples / 8).
online_test(unroll "s['sims_done'] == 12" "s['examples_drawn'] == s['examples_received'] == 12 * 3"
  "0 < s['validation_rel_l2'] < 5" "max(r.get('t_ar', 0) for r in m) >= 1" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set task.kind=\"autoregressive\"
  --set task.history=1 --set task.unroll=2 --set training.objective=\"rollout\" --set training.curriculum=\"linear\"
  --set training.schedule=\"cosine\" --set output.dir=online_unroll)

# Bounded memory: a buffer of 4 examples, 2 credits, and simulations much faster than the
# trainer: the buffer never holds more than its capacity and the simulations wait.
online_test(bounded_memory "max(r.get('buffer_size', 0) for r in m) <= 4" "s['sim_credit_wait_s'] > 0"
  "s['sims_done'] == 12" "s['examples_drawn'] == s['examples_received']" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set online.buffer_capacity=4
  --set online.credits=2 --set training.batch_size=2 --set output.dir=online_bounded_memory)

# Backpressure is not a timeout: a FIRO buffer of 4 examples drawn 100 times each, 1 credit
# and sim_timeout = 1 s hold the simulations back for far longer than 1 s at a time; none may
# count as failed (before the fix, with 150 draws each: 23 timeouts, all redrawn).
online_test(backpressure_not_timeout "s['sims_done'] == 12" "s['sims_failed'] == 0" "s['sim_credit_wait_s'] > 3"
  "s['examples_drawn'] == 100 * s['examples_received'] == 100 * 12 * 5" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set online.buffer=\"firo\" --set online.pseudo_epochs=100
  --set online.buffer_capacity=4 --set online.credits=1 --set online.sim_timeout=1 --set training.batch_size=2
  --set output.dir=online_backpressure_not_timeout)

# Kill and resume: stopped after 5 batches, and a trainer rank dying at step 7.
# Conditioning online: every example's cond (log-min-max alpha, min-max t_left over the
# [parameters] ranges) reaches the model; the model file keeps those ranges, and evaluate,
# building cond from validation.h5's parameters, reproduces the trainer's own final
# validation error (operator task: one example per trajectory, so the two are the same mean).
set(ONLINE_COND --set "task.condition=[\"alpha\",\"t_left\"]" --set "task.condition_transform=[\"log_minmax\",\"minmax\"]")
online_test(condition "s['sims_done'] == 12" "meta['task']['condition_range'] == [[0.1, 1.0], [-1.0, 1.0]]"
  "meta['model']['cond_dim'] == 2" "meta['cond_normalizer']['names'] == ['alpha', 't_left']"
  "meta['cond_normalizer']['log'] == [True, False]"
  "abs(meta['cond_normalizer']['scale'][1] - 0.5) < 1e-12 and abs(meta['cond_normalizer']['shift'][1] - 0.5) < 1e-12"
  -- ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${ONLINE_COND}
  --set task.kind=\"operator\" --set training.epochs=3 --set output.dir=online_condition)
set_tests_properties(cli_online_condition PROPERTIES FIXTURES_SETUP online_condition)
cli_test(online_condition_evaluate "unit" bash -c "${EXPECT_STR} ok 'operator on 2 trajectories of online_condition/validation.h5' \
  $<TARGET_FILE:pdestream> evaluate --run online_condition && ${PY} -c \"import json
e = json.load(open('online_condition/evaluation.json'))
s = json.load(open('online_condition/online_summary.json'))
assert abs(e['mean'] - s['validation_rel_l2']) < 1e-5 * s['validation_rel_l2'], (e['mean'], s['validation_rel_l2'])
print('evaluate', e['mean'], '= the online validation', s['validation_rel_l2'])\"")
set_tests_properties(cli_online_condition_evaluate PROPERTIES FIXTURES_REQUIRED online_condition)
# validate_rollout online: the trainer's validation is the rollout evaluate measures.
online_test(validate_rollout "s['sims_done'] == 12" -- ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY}
  --set task.kind=\"autoregressive\" --set task.history=1 --set training.validate_rollout=true
  --set output.dir=online_validate_rollout)
set_tests_properties(cli_online_validate_rollout PROPERTIES FIXTURES_SETUP online_validate_rollout)
cli_test(online_validate_rollout_evaluate "unit" bash -c "${EXPECT_STR} ok 'autoregressive on 2 trajectories' \
  $<TARGET_FILE:pdestream> evaluate --run online_validate_rollout && ${PY} -c \"import json
e = json.load(open('online_validate_rollout/evaluation.json'))
s = json.load(open('online_validate_rollout/online_summary.json'))
assert len(e['per_step']) == 4 and abs(e['mean'] - s['validation_rel_l2']) < 1e-5 * s['validation_rel_l2'], (e, s)
print('evaluate', e['mean'], '= the online rollout validation', s['validation_rel_l2'])\"")
set_tests_properties(cli_online_validate_rollout_evaluate PROPERTIES FIXTURES_REQUIRED online_validate_rollout)
# The pointwise task online: each finished simulation becomes blocks of (x, y, t) points.
online_test(pointwise "s['sims_done'] == 12" "s['examples_drawn'] == s['examples_received'] == 12 * 20"
  "meta['task']['kind'] == 'pointwise'" "0 < s['validation_rel_l2'] < 1.5" --
  ${MPI3} ${PDS} train --config ${PROJECT_SOURCE_DIR}/configs/heat2d_pointwise.toml ${ONLINE_TINY_JOB}
  --set task.points=64 --set "model.hidden=[32, 32]" --set output.dir=online_pointwise)
set_tests_properties(cli_online_pointwise PROPERTIES FIXTURES_SETUP online_pointwise)
cli_test(online_pointwise_evaluate "unit" ${EXPECT} ok "mlp / pointwise on 2 trajectories of online_pointwise/validation.h5"
  ${PDS} evaluate --run online_pointwise)
set_tests_properties(cli_online_pointwise_evaluate PROPERTIES FIXTURES_REQUIRED online_pointwise)
# A conditioned job killed at step 7 resumes from buffers whose samples keep their cond.
cli_test(online_condition_resume "mpi" bash ${CMAKE_CURRENT_SOURCE_DIR}/online_resume.sh crash online_condition_resume
  ${CHECKER} -- ${MPI4} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${ONLINE_COND} --set online.trainer_ranks=2)
set_tests_properties(cli_online_condition_resume PROPERTIES PROCESSORS 2 TIMEOUT 600)

cli_test(online_resume_stop "mpi" bash ${CMAKE_CURRENT_SOURCE_DIR}/online_resume.sh stop online_resume_stop
  ${CHECKER} -- ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY})
cli_test(online_resume_crash "mpi" bash ${CMAKE_CURRENT_SOURCE_DIR}/online_resume.sh crash online_resume_crash
  ${CHECKER} -- ${MPI4} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set online.trainer_ranks=2)
cli_test(online_resume_extend "mpi" bash ${CMAKE_CURRENT_SOURCE_DIR}/online_resume.sh extend online_resume_extend
  ${CHECKER} -- ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY})
set_tests_properties(cli_online_resume_stop cli_online_resume_crash cli_online_resume_extend
  PROPERTIES PROCESSORS 2 TIMEOUT 600)

# kill -9 of one rank at many moments, then --resume (online_kill.sh): the killed job ends by
# itself, the resumed one finishes with every sample done and, with a FIFO buffer, every
# example trained on exactly once (the draw ledgers), and the validation set is unchanged.
# 24 simulations, batch 4, checkpoints every 5 steps; the buffer (8) is full with examples
# waiting at every checkpoint, as in the reported hang.
set(KILL bash ${CMAKE_CURRENT_SOURCE_DIR}/online_kill.sh)
set(KILL_TINY ${ONLINE_TINY} --set simulation.samples=24 --set training.batch_size=4
    --set training.checkpoint_every=5 --set online.buffer_capacity=8 --set online.sim_timeout=20
    --set online.shutdown_timeout=20)
set(KILL_OK "done == set(range(24))" "s['sims_done'] == 24" "once(5)" "s['data_sent'] == s['data_received']"
    "s['clean_shutdown']")
function(kill_test name when)
  cli_test(online_kill_${name} "mpi" ${KILL} online_kill_${name} ${CHECKER} ${when} ${KILL_OK} -- ${ARGN})
  set_tests_properties(cli_online_kill_${name} PROPERTIES PROCESSORS 2 TIMEOUT 600)
endfunction()
set(KILL_TRAINER --set online.fault="kill_trainer")
set(KILL_SIM --set online.fault="kill_sim")
# Before the validation set is complete: the trainer after 1 of 2 validation simulations,
# a simulation rank inside the second one. No checkpoint yet: the job starts over.
kill_test(trainer_validation fault ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_TRAINER}
  --set online.fault_at="validation" --set online.fault_step=1)
kill_test(sim_validation fault ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_SIM}
  --set online.fault_samples=[-2] --set online.fault_step=2)
# After it, before the first checkpoint (starts over with the saved validation set), and
# after the first checkpoint (resumes at step 5).
kill_test(trainer_step2 fault ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_TRAINER}
  --set online.fault_step=2)
kill_test(trainer_step7 fault ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_TRAINER}
  --set online.fault_step=7)
kill_test(sim_sample6 fault ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_SIM}
  --set online.fault_samples=[6] --set online.fault_step=2)
# During the step-10 checkpoint: after the buffer file, and after the accounts but before
# checkpoint.pt (both resume at step 5); on 4 ranks, the second of 2 trainer ranks.
kill_test(trainer_checkpoint fault ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_TRAINER}
  --set online.fault_at="checkpoint" --set online.fault_step=10)
kill_test(trainer_checkpoint_state fault ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_TRAINER}
  --set online.fault_at="checkpoint_state" --set online.fault_step=10)
kill_test(trainer2_checkpoint fault ${MPI4} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_TRAINER}
  --set online.trainer_ranks=2 --set online.fault_at="checkpoint" --set online.fault_step=10)
# From outside, as the report did: kill -9 of the trainer or of a simulation rank once the
# first checkpoint is on disk (sample 20 sleeps 8 s, so the job is still running then).
set(KILL_LATER --set online.fault=\"hang\" --set online.fault_samples=[20] --set online.fault_hang=8)
kill_test(external_trainer 0@checkpoint.pt ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_LATER})
kill_test(external_sim 2@checkpoint.pt ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_LATER})
# The disk fills up once the step-5 checkpoint exists (a 20 MB tmpfs; root only, else
# skipped): the next checkpoint that meets the full disk (step 10, or later on a busy
# machine where the filler is slower than the trainer) fails with one line and no temporary
# file, and once there is room again, --resume goes on from a complete checkpoint: one of
# the steps whose accounts (online_state_<step>.json) are on disk. Which one is checked
# exactly by Trainer.AnUnusableCheckpointFallsBackToThePreviousOne (RLIMIT_FSIZE).
string(REPLACE ";" " " MPI3_TEXT "${MPI3}")
cli_test(online_disk_fills "mpi" bash ${CMAKE_CURRENT_SOURCE_DIR}/disk_fill.sh 20 run/checkpoint.pt
  "wrote 0 of [0-9]+ bytes of run/.*[.]tmp [(]disk full[?][)]"
  "set -o pipefail && steps=$(ls run | sed -n 's/^online_state_\\([0-9]*\\)[.]json$/\\1/p' | paste -sd '|') && test -n \"$steps\" && ${MPI3_TEXT} ${PDS} train --resume run | grep -E \"resumed run at step ($steps)$\"" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${KILL_TINY} ${KILL_LATER} --set output.dir=run)
set_tests_properties(cli_online_disk_fills PROPERTIES SKIP_RETURN_CODE 77 PROCESSORS 2 TIMEOUT 400)

# Never hang. A simulation that hangs (30 s) far past sim_timeout (2 s) at the end of the
# job: training ends, the outputs are saved, and after shutdown_timeout (3 s) the job
# aborts with one line naming the rank that did not leave. Both groups hanging in the middle
# of the job, or both validation simulations hanging: the trainer gives up once nothing has
# moved for sim_timeout.
set(STALL --set online.fault=\"hang\" --set online.fault_step=1 --set online.fault_hang=30
    --set online.sim_timeout=2 --set online.shutdown_timeout=3 --set online.on_failure=\"skip\")
cli_test(err_online_shutdown_timeout "mpi" ${EXPECT} fail
  "outputs are saved, but after waiting 3 s .*shutdown_timeout.* had not left: rank [12] \\(no BYE\\)"
  timeout -k 10 25 ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${STALL} --set online.fault_samples=[11]
  --set output.dir=online_shutdown_timeout)
set_tests_properties(cli_err_online_shutdown_timeout PROPERTIES FIXTURES_SETUP online_shutdown_timeout)
cli_test(online_shutdown_timeout_outputs "unit" ${CHECKER} online_shutdown_timeout "not s['clean_shutdown']"
  "s['sims_done'] == 11" "s['failure_reasons'] == {'timeout': 1}" "once(5)")
set_tests_properties(cli_online_shutdown_timeout_outputs PROPERTIES FIXTURES_REQUIRED online_shutdown_timeout)
cli_test(err_online_data_stall "mpi" ${EXPECT} fail
  "waited for training data, but no simulation sent anything for [0-9.]+ s .*sim_timeout = 2.*simulations done, 0 running"
  timeout -k 10 25 ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${STALL} --set online.fault_samples=[5,6]
  --set output.dir=online_data_stall)
cli_test(err_online_validation_stall "mpi" ${EXPECT} fail
  "waited [0-9.]+ s for the validation simulations: 0 of 2 arrived, and no simulation sent anything for"
  timeout -k 10 25 ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} ${STALL} --set online.fault_samples=[-1,-2]
  --set output.dir=online_validation_stall)

# Errors: one line, non-zero exit.
cli_test(err_online_bad_key "unit" ${EXPECT} fail "\\[online\\] bufer: unknown key"
  ${PDS} train --config ${ONLINE_CFG} --set online.bufer=\"fifo\")
cli_test(err_online_bad_buffer "unit" ${EXPECT} fail "buffer.*expected one of: fifo, firo, reservoir"
  ${PDS} train --config ${ONLINE_CFG} --set online.buffer=\"lifo\")
cli_test(err_online_one_rank "unit" ${EXPECT} fail "needs more MPI ranks than \\[online\\] trainer_ranks = 1"
  ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY})
cli_test(err_online_groups "mpi" ${EXPECT} fail "ranks_per_sim = 2 must divide the 1 simulation ranks"
  ${MPI2} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set simulation.ranks_per_sim=2)
cli_test(err_online_no_validation "unit" ${EXPECT} fail "online training needs a validation set"
  ${PDS} train --config ${ONLINE_CFG} --set online.validation_samples=0)

# The offline twin: the same config, dataset from generate, online.enabled = false.
cli_test(online_twin_data "mpi" ${EXPECT} ok "wrote twin.h5: 12 samples"
  ${MPI2} ${PDS} generate --config ${ONLINE_CFG} ${ONLINE_TINY} --out twin.h5 --set output.dir=twin_gen)
set_tests_properties(cli_online_twin_data PROPERTIES FIXTURES_SETUP twin_data)
cli_test(online_twin_train "unit" ${EXPECT} ok "done: step [0-9]+, .*validation relative L2"
  ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set online.enabled=false --set data.path=twin.h5
  --set training.epochs=2 --set training.validate_every=0 --set output.dir=twin_train)
set_tests_properties(cli_online_twin_train PROPERTIES FIXTURES_REQUIRED twin_data)

# Field assembly: the validation set, streamed as blocks from a group of 2 ranks and
# assembled on the trainer, equals the same simulations (seed + 1) from generate on 1 rank.
online_test(assembly "s['ranks_per_sim'] == 2" -- ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY}
  --set simulation.ranks_per_sim=2 --set online.trainer_ranks=1 --set online.validation_samples=3
  --set simulation.samples=2 --set output.dir=online_assembly)
set_tests_properties(cli_online_assembly PROPERTIES FIXTURES_SETUP online_assembly)
cli_test(online_assembly_generate "unit" ${EXPECT} ok "wrote assembly_ref.h5: 3 samples"
  ${PDS} generate --config ${ONLINE_CFG} ${ONLINE_TINY} --set sampler.seed=2025 --samples 3
  --out assembly_ref.h5 --set output.dir=assembly_gen)
set_tests_properties(cli_online_assembly_generate PROPERTIES FIXTURES_SETUP online_assembly_ref)
cli_test(online_assembly_compare "unit" ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/check_assembly.py
  online_assembly/validation.h5 assembly_ref.h5)
set_tests_properties(cli_online_assembly_compare PROPERTIES FIXTURES_REQUIRED "online_assembly;online_assembly_ref")

# Budgets and the other validation source: a time budget ends a job whose sample budget is
# out of reach; the validation set can come from an HDF5 file instead of simulations.
online_test(time_budget "0 < s['sims_done'] < 100000" "s['data_sent'] == s['data_received']" "s['clean_shutdown']" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set simulation.samples=100000
  --set online.time_budget=3 --set output.dir=online_time_budget)
online_test(validation_file "s['validation_examples'] == 12 * 5" "s['sims_done'] == 12"
  "s['data_sent'] == s['data_received'] == 12 * 5" --
  ${MPI3} ${PDS} train --config ${ONLINE_CFG} ${ONLINE_TINY} --set online.validation_path=\"twin.h5\"
  --set output.dir=online_validation_file)
set_tests_properties(cli_online_validation_file PROPERTIES FIXTURES_REQUIRED twin_data)

# DeepONet on acoustic3d (pointwise examples): a tiny room (13^3 points, 6 frames: 27 blocks of
# 500 points per simulation), 1 trainer + 1 simulation rank, the config's FIRO buffer (random
# draws, one each): every block of every simulation is trained on exactly once; then evaluate
# predicts the receivers.
set(ACOUSTIC_TINY --set solver.f_max=500 --set solver.ppw=4 --set solver.duration=0.005 --set solver.dt_out=1e-3
    --set simulation.samples=6 --set online.validation_samples=2 --set online.buffer_threshold=0
    --set training.batch_size=8 --set training.threads=1 --set training.log_every=1 --set training.validate_every=5
    --set model.branch_width=16 --set model.trunk_width=16 --set model.latent=8 --set task.reduce_x=1
    --set online.wait_timeout=0.2)
online_test(deeponet_acoustic "s['data_sent'] == s['data_received'] == 8 * 6" "s['sims_done'] == 6"
  "done == set(range(6))" "s['examples_drawn'] == s['examples_received'] == 6 * 27" "once(27)"
  "s['sims_failed'] == 0" "s['clean_shutdown']" "meta['model']['name'] == 'deeponet'" --
  ${MPI2} ${PDS} train --config ${PROJECT_SOURCE_DIR}/configs/acoustic_cube_deeponet_online.toml ${ACOUSTIC_TINY}
  --set output.dir=online_deeponet_acoustic)
set_tests_properties(cli_online_deeponet_acoustic PROPERTIES FIXTURES_SETUP deeponet_online_run)
cli_test(deeponet_evaluate_receivers "unit" bash ${CMAKE_CURRENT_SOURCE_DIR}/deeponet_receivers.sh
  ${CMAKE_CURRENT_SOURCE_DIR}/expect.sh ${PDS} ${PY})
set_tests_properties(cli_deeponet_evaluate_receivers PROPERTIES FIXTURES_REQUIRED deeponet_online_run)
