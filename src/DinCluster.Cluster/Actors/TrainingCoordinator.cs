using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Ledger;
using DinCluster.Cluster.Local;
using DinCluster.Cluster.Observability;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Sync;
using DinCluster.Core.Checkpoints;
using DinCluster.Core.Metrics;
using DinCluster.Core.Optimizers;
using DinCluster.Data;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// The cluster singleton that runs a job: waits for its members, assigns shards and row groups,
/// runs epochs (and the ssp/bsp clocks), evaluates the test set through the workers after each
/// epoch, and writes summary.json, metrics.csv and curves.png.
/// <code>
///   Forming --all roles joined--> Assigning --PS ready, row groups assigned, workers ready-->
///   Training(e) --every data shard's EpochCompleted--> SyncingBuffers(e) --workers' Dice statistics averaged-->
///   Evaluating(e) --all tasks scored--> Checkpointing(e) --PS snapshots + dense state committed--> Training(e+1) | Finished
///   (any state) --bad input, lost PS/data shard, no worker left, formation timeout--> Finished(failed)
/// </code>
/// </summary>
public sealed class TrainingCoordinator : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CoordinatorSetup _setup;
    private readonly RunSummary _summary;
    private readonly List<IActorRef> _workers = [];
    private readonly List<IActorRef> _ps = [];
    private readonly List<IActorRef> _data = [];
    private readonly HashSet<int> _liveWorkers = [];
    private readonly List<GlobalStep> _steps = [];
    private readonly Stopwatch _clock = new();
    private readonly Stopwatch _epochClock = new();
    private readonly Stopwatch _windowClock = new();
    private IActorRef _dense = ActorRefs.Nobody;
    private MetricsLog? _metrics;
    private List<TrainUnit> _trainUnits = [];
    private List<TrainUnit> _testUnits = [];
    private int _pending;
    private int _epoch;
    private long _totalSteps, _samplesSeen, _epochSteps, _epochSamples, _windowSamples;
    private double _epochLoss, _windowLoss;
    private double _epochTrainSeconds;
    private readonly Dictionary<int, EpochCompleted> _epochDone = [];
    private SspGate? _gate;
    private long? _announcedMin;
    private BspBarrier? _barrier;
    private long _bspStep;
    private bool _applying;
    private bool _stopRequested;
    private readonly Dictionary<int, (int Worker, List<PredictionsScored> Parts, bool Done)> _tasks = [];
    private readonly HashSet<int> _awaitingBuffers = [];
    private readonly List<float[]> _bufferReplies = [];
    private float[] _buffers = [];
    private CheckpointStore? _checkpoints;
    private PendingCheckpoint? _pendingCheckpoint;
    private int _awaitingSnapshots;
    private string? _checkpointError;
    private DenseStateSnapshot? _denseState;
    // Observability: what `dincluster status` (GetJobProgress) and the din_job_* gauges report.
    private readonly NodeMetrics _nodeMetrics = NodeMetrics.Get(Context.System);
    private readonly TextWriter _out;
    private string _state = "forming";
    private double _lastLoss = double.NaN;

    public TrainingCoordinator(CoordinatorSetup setup)
    {
        _setup = setup;
        _summary = setup.NewSummary(DateTime.UtcNow);
        // Console lines name the node: "[coordinator 127.0.0.1:4053] epoch 1: ...".
        _out = new NodeLineWriter(setup.Log, $"[coordinator {_nodeMetrics.Node}] ");
        _nodeMetrics.JobRunning.Set(1);
        Become(Forming);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(CoordinatorSetup setup) => Akka.Actor.Props.Create(() => new TrainingCoordinator(setup));

    private TextWriter Out => _out;
    private SyncMode Sync => _setup.Options.Sync;

    protected override void PreStart()
    {
        Timers.StartSingleTimer("formation", FormationTimedOut.Instance, _setup.FormationTimeout);
        var job = _setup.Job;
        try
        {
            Directory.CreateDirectory(job.OutDir);
            var reader = new BehaviourLogReader(job.Schema, job.OnBadInput);
            _trainUnits = LocalTrainer.Inventory(reader, job.TrainFiles(), out var trainSamples);
            _testUnits = LocalTrainer.Inventory(reader, job.TestFiles(), out var testSamples);
            _summary.Dataset = new DatasetInfo
            {
                Path = job.DataDir,
                TrainSamples = trainSamples,
                TestSamples = testSamples,
                TrainFiles = _trainUnits.Select(u => u.File).Distinct().Count(),
                TrainRowGroups = _trainUnits.Count,
                BayesAuc = job.BayesAuc(),
            };
            _metrics = new MetricsLog(Path.Combine(job.OutDir, "metrics.csv"));
            Out.WriteLine($"coordinator: {trainSamples:N0} training samples in {_trainUnits.Count} row groups, {testSamples:N0} test samples; waiting for {_setup.Workers} worker(s), {_setup.PsShards} PS shard(s), {_setup.DataShards} data shard(s)");
        }
        catch (Exception e) when (e is BadInputException or FileNotFoundException or InvalidDataException)
        {
            Self.Tell(new RunFailed(e.Message));
        }
    }

    protected override void PostStop()
    {
        // Stopped mid-run (its node shut down: a signal, or downed): summary.json still records what was trained.
        if (_summary.Status == "running") Record("the training coordinator stopped before the run finished (its node shut down or left the cluster)");
        _metrics?.Dispose();
        _setup.Result.TrySetException(new InvalidOperationException("the training coordinator stopped before the run finished"));
    }

    // ---- Forming: members announce themselves (JoinTraining); extras beyond the job's shape wait unused.
    private void Forming()
    {
        _state = "forming";
        Receive<JoinTraining>(m =>
        {
            var list = m.Role switch
            {
                NodeRole.Worker => _workers,
                NodeRole.ParameterServer => _ps,
                NodeRole.DataShard => _data,
                _ => null,
            };
            if (list is null || list.Contains(Sender)) return;
            list.Add(Sender);
            Context.Watch(Sender);
            if (_workers.Count >= _setup.Workers && _ps.Count >= _setup.PsShards && _data.Count >= _setup.DataShards) Assign();
        });
        Receive<FormationTimedOut>(_ => Finish(
            $"formation timed out after {_setup.FormationTimeout}: {_workers.Count}/{_setup.Workers} workers, {_ps.Count}/{_setup.PsShards} PS shards, {_data.Count}/{_setup.DataShards} data shards joined"));
        Receive<Terminated>(m =>
        {
            _workers.Remove(m.ActorRef);
            _ps.Remove(m.ActorRef);
            _data.Remove(m.ActorRef);
        });
        Common();
    }

    // ---- Assigning: indices by actor path (deterministic), PS shards, row groups, then workers.
    private void Assign()
    {
        Timers.Cancel("formation");
        static List<IActorRef> Take(List<IActorRef> refs, int n) => [.. refs.OrderBy(r => r.Path.ToString(), StringComparer.Ordinal).Take(n)];
        var workers = Take(_workers, _setup.Workers);
        var ps = Take(_ps, _setup.PsShards);
        var data = Take(_data, _setup.DataShards);
        _workers.Clear(); _workers.AddRange(workers);
        _ps.Clear(); _ps.AddRange(ps);
        _data.Clear(); _data.AddRange(data);
        if (_setup.Nodes <= 0) _summary.Cluster.Nodes = CountNodes();

        _dense = Context.ActorOf(DenseParameterActor.Props(_setup.Job.Dense, Sync == SyncMode.Bsp), "dense");
        for (var i = 0; i < _ps.Count; i++) _ps[i].Tell(new AssignPsShard(i, _ps.Count, _setup.Options));
        var groups = RowGroupAssignment.Assign(_trainUnits.Select(u => new RowGroupRef(u.File, u.RowGroup, u.Rows)).ToList(), _data.Count);
        for (var d = 0; d < _data.Count; d++) _data[d].Tell(new AssignRowGroups(d, groups[d], _setup.Options));
        _pending = _ps.Count + _data.Count;
        Out.WriteLine($"coordinator: cluster formed; {_ps.Count} PS shard(s), {_data.Count} data shard(s) ({string.Join(", ", groups.Select(g => $"{g.Sum(x => x.Rows):N0} rows"))}), {_workers.Count} worker(s)");
        Become(Assigning);
    }

    /// <summary>Nodes of this run (multi-process: not known before the members joined): this one and those hosting a used member.</summary>
    private int CountNodes()
    {
        var self = Akka.Cluster.Cluster.Get(Context.System).SelfAddress;
        return _workers.Concat(_ps).Concat(_data).Select(r => r.Path.Address.HasLocalScope ? self : r.Path.Address).Append(self).Distinct().Count();
    }

    private void Assigning()
    {
        _state = "assigning";
        Receive<PsShardReady>(_ => AssignedOne());
        Receive<RowGroupsAssigned>(_ => AssignedOne());
        Receive<WorkerReady>(m =>
        {
            _liveWorkers.Add(m.WorkerIndex);
            if (--_pending == 0) StartEpoch(1);
        });
        Common();
    }

    private void AssignedOne()
    {
        if (--_pending > 0) return;
        _pending = _workers.Count;
        for (var w = 0; w < _workers.Count; w++)
            _workers[w].Tell(new StartTraining(w, _workers.Count, [.. _ps], _dense, [.. _data], _setup.Options));
    }

    // ---- Training(e)
    private void StartEpoch(int epoch)
    {
        _epoch = epoch;
        _epochDone.Clear();
        _epochSteps = _epochSamples = 0;
        _epochLoss = 0;
        _epochClock.Restart();
        _clock.Start();
        _nodeMetrics.JobEpoch.Set(epoch);
        _windowClock.Restart();
        if (Sync == SyncMode.Ssp)
        {
            _gate = new SspGate(_setup.Options.Staleness);
            foreach (var w in _liveWorkers) _gate.Join(w);
            _announcedMin = null;
        }
        _pending = _data.Count;
        foreach (var d in _data) d.Tell(new StartEpoch(epoch));
        Become(Training);
    }

    private void Training()
    {
        _state = "training";
        Receive<EpochStarted>(_ =>
        {
            if (--_pending == 0 && Sync == SyncMode.Bsp) BeginBspStep();
        });
        Receive<StepCompleted>(m =>
        {
            if (Sync == SyncMode.Bsp)
            {
                _barrier?.Computed(m.WorkerIndex, m.BatchId, m.Samples, m.Loss);
                CheckBarrier();
                return;
            }
            _steps.Add(new GlobalStep(_totalSteps, [m.WorkerIndex], [m.BatchId], m.Samples, m.Loss));
            Count(m.Samples, m.Loss);
            if (_gate is not null)
            {
                _gate.Completed(m.WorkerIndex, m.Clock);
                AnnounceClock();
            }
            if (StepLimitReached()) StopEarly();
        });
        Receive<WorkerWaiting>(m =>
        {
            _gate?.Waiting(m.WorkerIndex, m.Clock);
            AnnounceClock();
        });
        Receive<StepSkipped>(m =>
        {
            _barrier?.Skipped(m.WorkerIndex);
            CheckBarrier();
        });
        Receive<StepApplied>(_ =>
        {
            if (--_pending > 0) return;
            var b = _barrier!;
            _barrier = null;
            _applying = false;
            _steps.Add(new GlobalStep(b.Step, b.Participants, [.. b.BatchIds], b.Samples, b.Loss));
            Count(b.Samples, b.Loss);
            _bspStep++;
            if (StepLimitReached()) StopEarly();
            else if (_epochDone.Count == _data.Count) Evaluate();
            else BeginBspStep();
        });
        Receive<RetryStep>(_ =>
        {
            if (_barrier is null) BeginBspStep();
        });
        Receive<EpochCompleted>(m =>
        {
            if (m.Epoch != _epoch) return;
            _epochDone[m.ShardIndex] = m;
            // In bsp the last global step may still be waiting to be applied.
            if (_epochDone.Count == _data.Count && _barrier is null) Evaluate();
        });
        Common();
    }

    private void BeginBspStep()
    {
        _barrier = new BspBarrier(_bspStep, _liveWorkers);
        foreach (var w in _liveWorkers) _workers[w].Tell(new BeginStep(_bspStep));
    }

    private void CheckBarrier()
    {
        if (_barrier is not { IsComplete: true } b || _applying) return;
        if (b.Participants.Length == 0)
        {
            // Nobody had a batch: either the epoch is drained, or batches are still on their way.
            _barrier = null;
            if (_epochDone.Count == _data.Count) Evaluate();
            else Timers.StartSingleTimer("retry-step", RetryStep.Instance, TimeSpan.FromMilliseconds(20));
            return;
        }
        _applying = true;
        _pending = _ps.Count + 1;
        var apply = new ApplyStep(b.Step, b.Participants, b.ParticipantSamples);
        foreach (var p in _ps) p.Tell(apply);
        _dense.Tell(apply);
    }

    private void AnnounceClock()
    {
        var min = _gate!.MinClock;
        if (min == _announcedMin) return;
        _announcedMin = min;
        foreach (var w in _liveWorkers) _workers[w].Tell(new ClockAdvanced(min ?? long.MaxValue));
    }

    private void Count(int samples, double loss)
    {
        _totalSteps++;
        _epochSteps++;
        _epochSamples += samples;
        _samplesSeen += samples;
        _epochLoss += loss * samples;
        _windowLoss += loss * samples;
        _windowSamples += samples;
        _lastLoss = loss;
        _nodeMetrics.JobSteps.Set(_totalSteps);
        _nodeMetrics.JobSamples.Set(_samplesSeen);
        _nodeMetrics.JobLastLoss.Set(loss);
        if (_totalSteps % _setup.Job.LogEverySteps != 0) return;
        _metrics?.Add(new MetricsRow(_epoch, _totalSteps, _samplesSeen, _clock.Elapsed.TotalSeconds,
            _windowLoss / _windowSamples, _windowSamples / _windowClock.Elapsed.TotalSeconds));
        _windowLoss = 0;
        _windowSamples = 0;
        _windowClock.Restart();
    }

    private bool StepLimitReached() => _setup.Job.MaxSteps > 0 && _totalSteps >= _setup.Job.MaxSteps;

    /// <summary>--max-steps: stop handing out work and evaluate what was trained.</summary>
    private void StopEarly()
    {
        _stopRequested = true;
        Evaluate();
    }

    // ---- SyncingBuffers(e): each worker's Dice running statistics saw only its own batches; the
    // test set is scored (and the checkpoint written) with their average, so all workers agree.
    private void Evaluate()
    {
        _clock.Stop();
        // Epoch throughput counts training only, as the local trainer's does.
        _epochTrainSeconds = _epochClock.Elapsed.TotalSeconds;
        Timers.Cancel("retry-step");
        _awaitingBuffers.Clear();
        _bufferReplies.Clear();
        foreach (var w in _liveWorkers)
        {
            _awaitingBuffers.Add(w);
            _workers[w].Tell(new GetBuffers(_epoch));
        }
        Become(SyncingBuffers);
        if (_awaitingBuffers.Count == 0) StartEvaluation();
    }

    private void SyncingBuffers()
    {
        _state = "evaluating";
        Receive<WorkerBuffers>(m =>
        {
            if (m.Epoch != _epoch || !_awaitingBuffers.Remove(m.WorkerIndex)) return;
            _bufferReplies.Add(m.Buffers);
            if (_awaitingBuffers.Count == 0) StartEvaluation();
        });
        IgnoreLateTraining();
        Common();
    }

    private static float[] Average(IReadOnlyList<float[]> parts)
    {
        if (parts.Count == 0) return [];
        var mean = new float[parts[0].Length];
        foreach (var p in parts)
            for (var i = 0; i < mean.Length; i++) mean[i] += p[i] / parts.Count;
        return mean;
    }

    // ---- Evaluating(e): one task per test row group, round-robin over live workers.
    private void StartEvaluation()
    {
        if (_bufferReplies.Count > 0) _buffers = Average(_bufferReplies);
        if (_buffers.Length > 0)
            foreach (var w in _liveWorkers) _workers[w].Tell(new SetBuffers(_epoch, _buffers));
        _tasks.Clear();
        var workers = _liveWorkers.Order().ToArray();
        for (var t = 0; t < _testUnits.Count; t++)
        {
            var w = workers[t % workers.Length];
            var u = _testUnits[t];
            _tasks[t] = (w, [], false);
            _workers[w].Tell(new EvaluateRowGroup(_epoch, t, new RowGroupRef(u.File, u.RowGroup, u.Rows)));
        }
        Become(Evaluating);
        if (_tasks.Count == 0) EndEpoch();
    }

    private void Evaluating()
    {
        _state = "evaluating";
        Receive<PredictionsScored>(m =>
        {
            if (m.Epoch == _epoch && _tasks.TryGetValue(m.TaskId, out var t) && _workers[t.Worker].Equals(Sender)) t.Parts.Add(m);
        });
        Receive<EvaluationTaskDone>(m =>
        {
            if (m.Epoch != _epoch || !_tasks.TryGetValue(m.TaskId, out var t) || !_workers[t.Worker].Equals(Sender)) return;
            _tasks[m.TaskId] = t with { Done = true };
            if (_tasks.Values.All(x => x.Done)) EndEpoch();
        });
        IgnoreLateTraining();
        Common();
    }

    /// <summary>Late training messages of the finished epoch change nothing.</summary>
    private void IgnoreLateTraining()
    {
        Receive<StepCompleted>(_ => { });
        Receive<WorkerWaiting>(_ => { });
        Receive<StepSkipped>(_ => { });
        Receive<EpochCompleted>(_ => { });
        Receive<StepApplied>(_ => { });
        Receive<RetryStep>(_ => { });
    }

    private void EndEpoch()
    {
        var parts = _tasks.OrderBy(t => t.Key).SelectMany(t => t.Value.Parts).ToList();
        var users = parts.SelectMany(p => p.Users).ToArray();
        var scores = parts.SelectMany(p => p.Scores).ToArray();
        var labels = parts.SelectMany(p => p.Labels).ToArray();
        var test = scores.Length > 0 ? EvaluationResult.Compute(users, scores, labels) : null;
        var seconds = _epochTrainSeconds;
        var done = _epochDone.Values.ToList();
        var record = new EpochRecord
        {
            Epoch = _epoch,
            SamplesExpected = _summary.Dataset.TrainSamples,
            SamplesConsumed = done.Count == _data.Count ? done.Sum(e => e.SamplesConsumed) : _epochSamples,
            SamplesSkipped = done.Sum(e => e.SamplesSkipped),
            SamplesReplayed = done.Sum(e => e.SamplesReplayed),
            LedgerExact = done.Count == _data.Count && done.All(e => e.Exact),
            Steps = _epochSteps,
            TrainLoss = _epochSamples > 0 ? _epochLoss / _epochSamples : double.NaN,
            Seconds = seconds,
            SamplesPerSecond = _epochSamples / Math.Max(seconds, 1e-9),
            Test = test is null ? null : new TestMetrics(test.Auc, test.Gauc, test.LogLoss, test.Samples),
        };
        _summary.Epochs.Add(record);
        _summary.Steps = _totalSteps;
        _summary.TrainSeconds = _clock.Elapsed.TotalSeconds;
        _metrics?.Add(new MetricsRow(_epoch, _totalSteps, _samplesSeen, _clock.Elapsed.TotalSeconds, null, record.SamplesPerSecond,
            test?.Auc, test?.Gauc, test?.LogLoss));
        Out.WriteLine($"epoch {_epoch}: {record.SamplesConsumed:N0}/{record.SamplesExpected:N0} samples (exact: {record.LedgerExact}, replayed {record.SamplesReplayed:N0}), train loss {record.TrainLoss:F4}, {record.SamplesPerSecond:N0} samples/s | test AUC {test?.Auc:F4} GAUC {test?.Gauc:F4} logloss {test?.LogLoss:F4}");
        Checkpoint();
    }

    // ---- Checkpointing(e): training is paused between epochs, so the PS snapshots, the dense
    // state and the averaged statistics are of one step. PS shards write their files into the
    // pending folder (storage the nodes share: one host, or a shared volume); the coordinator
    // adds model.json and dense.bin and commits (CheckpointStore: checksums, atomic rename).
    private void Checkpoint()
    {
        if (!Directory.Exists(_setup.Job.OutDir) || _buffers.Length == 0)
        {
            NextEpochOrFinish();
            return;
        }
        _checkpoints ??= new CheckpointStore(Path.Combine(_setup.Job.OutDir, "checkpoints"));
        _pendingCheckpoint = _checkpoints.Begin(_totalSteps);
        _awaitingSnapshots = _ps.Count;
        _checkpointError = null;
        _denseState = null;
        for (var i = 0; i < _ps.Count; i++)
            _ps[i].Tell(new WriteSnapshot(_totalSteps, Path.GetFullPath(_pendingCheckpoint.PathOf(ModelCheckpoint.SnapshotName(i, _ps.Count)))));
        _dense.Tell(new GetDenseState(_totalSteps));
        Become(Checkpointing);
    }

    private void Checkpointing()
    {
        _state = "checkpointing";
        Receive<SnapshotWritten>(m =>
        {
            if (m.Step != _pendingCheckpoint?.Step) return;
            if (m.Error.Length > 0) _checkpointError = $"PS shard {m.ShardIndex}: {m.Error}";
            _awaitingSnapshots--;
            TryCommitCheckpoint();
        });
        Receive<DenseStateSnapshot>(m =>
        {
            if (m.Step != _pendingCheckpoint?.Step) return;
            _denseState = m;
            TryCommitCheckpoint();
        });
        IgnoreLateTraining();
        Common();
    }

    private void TryCommitCheckpoint()
    {
        if (_awaitingSnapshots > 0 || _denseState is not { } d || _pendingCheckpoint is not { } pending) return;
        var job = _setup.Job;
        if (_checkpointError is null)
        {
            var dir = ModelCheckpoint.Commit(pending, _epoch, epochComplete: !_stopRequested, job.Schema, job.Model, job.Embeddings, job.Dense,
                new DenseState(d.AdamStep, d.Values, d.M, d.V), _buffers, _ps.Count);
            _summary.Checkpoints.Add(Path.GetRelativePath(job.OutDir, dir));
        }
        else
        {
            _summary.Failures.Add(new FailureRecord(DateTime.UtcNow, "checkpoint not written", "coordinator", _checkpointError));
            Out.WriteLine($"coordinator: checkpoint of step {pending.Step} not written: {_checkpointError}");
        }
        _pendingCheckpoint = null;
        NextEpochOrFinish();
    }

    private void NextEpochOrFinish()
    {
        if (_epoch < _setup.Job.Epochs && !_stopRequested) StartEpoch(_epoch + 1);
        else Finish(null);
    }

    // ---- In every state.
    private void Common()
    {
        Receive<DataShardFailed>(m => Finish($"data shard {m.ShardIndex}: {m.Error}"));
        Receive<RunFailed>(m => Finish(m.Error));
        Receive<Terminated>(m => MemberLost(m.ActorRef));
        Receive<JoinTraining>(m => _log.Info("{0} {1} joined after the cluster formed; not used by this run", m.Role, Sender.Path));
        Receive<GetJobProgress>(_ => Sender.Tell(Progress()));
    }

    /// <summary>The job as `dincluster status` shows it.</summary>
    private JobProgress Progress() => new(_state, _epoch, _setup.Job.Epochs, _totalSteps, _samplesSeen, _epochSamples,
        _summary.Dataset.TrainSamples, _lastLoss, _summary.Epochs.LastOrDefault()?.Test?.Auc ?? double.NaN, _liveWorkers.Count,
        _clock.Elapsed.TotalSeconds);

    private void MemberLost(IActorRef actor)
    {
        var w = _workers.IndexOf(actor);
        if (w >= 0 && _liveWorkers.Remove(w))
        {
            if (_awaitingBuffers.Remove(w) && _awaitingBuffers.Count == 0) StartEvaluation();
            _summary.Failures.Add(new FailureRecord(DateTime.UtcNow, "worker lost", actor.Path.Address.ToString(), "its unacked batches were re-issued by the data shards"));
            Out.WriteLine($"coordinator: worker {w} ({actor.Path.Address}) is gone; {_liveWorkers.Count} left");
            _gate?.Remove(w);
            AnnounceClockIfGated();
            _barrier?.Remove(w);
            CheckBarrier();
            foreach (var (task, t) in _tasks.Where(t => t.Value.Worker == w && !t.Value.Done).ToList())
            {
                var next = _liveWorkers.Count > 0 ? _liveWorkers.Order().ElementAt(task % _liveWorkers.Count) : -1;
                if (next < 0) break;
                _tasks[task] = (next, [], false);
                var u = _testUnits[task];
                _workers[next].Tell(new EvaluateRowGroup(_epoch, task, new RowGroupRef(u.File, u.RowGroup, u.Rows)));
            }
            if (_liveWorkers.Count == 0) Finish("every worker is gone");
            return;
        }
        if (_ps.Contains(actor) || _data.Contains(actor))
            Finish($"{(_ps.Contains(actor) ? "PS shard" : "data shard")} {actor.Path} is gone; restoring it from a checkpoint is not implemented in the cluster trainer yet");
    }

    private void AnnounceClockIfGated()
    {
        if (_gate is not null) AnnounceClock();
    }

    private void Finish(string? error)
    {
        Record(error);
        foreach (var w in _workers) w.Tell(StopTraining.Instance);
        Become(Finished);
    }

    /// <summary>Writes summary.json and curves.png with the outcome, and completes the run's result.</summary>
    private void Record(string? error)
    {
        _clock.Stop();
        _summary.Status = error is null ? "completed" : "failed";
        _summary.Error = error;
        _summary.FinishedUtc = DateTime.UtcNow;
        _summary.Steps = _totalSteps;
        _summary.TrainSeconds = _clock.Elapsed.TotalSeconds;
        _summary.Summarize();
        var dir = _setup.Job.OutDir;
        if (Directory.Exists(dir))
        {
            _summary.Write(Path.Combine(dir, "summary.json"));
            if (_metrics is { Rows.Count: > 0 }) CurvesPlot.Save(_metrics.Rows, Path.Combine(dir, "curves.png"), _summary.Dataset.BayesAuc);
        }
        if (error is not null) Out.WriteLine($"coordinator: run failed: {error}");
        _setup.Result.TrySetResult(new ClusterRunResult(_summary, _steps));
    }

    private void Finished()
    {
        _state = _summary.Status;
        _nodeMetrics.JobRunning.Set(0);
        Receive<GetJobProgress>(_ => Sender.Tell(Progress()));
        ReceiveAny(_ => { });
    }

    private sealed record FormationTimedOut
    {
        public static readonly FormationTimedOut Instance = new();
    }

    private sealed record RetryStep
    {
        public static readonly RetryStep Instance = new();
    }

    private sealed record RunFailed(string Error);
}
