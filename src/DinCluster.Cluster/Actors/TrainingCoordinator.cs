using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
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
///   Training(e) --checkpoint due (--checkpoint-every-steps/-minutes)--> workers paused (async/ssp) --> SyncingBuffers
///               --> Checkpointing(e, mid-epoch) --committed--> Training(e) (workers continue)
///   Assigning --resume: RestoreSnapshot to every PS + RestoreDenseState--> Restoring --> workers start --> Training(checkpoint's epoch)
///   (Training..Checkpointing) --PS or data shard lost--> Recovering --replacement ready, workers reset--> Restoring --> Training(checkpoint's epoch)
///   on a standby node (takeover): Forming (members announce themselves again) --> Assigning --newest checkpoint restored
///               (or none: from scratch)--> Training(checkpoint's epoch); the data shards report what is replayed
///   (any state) --bad input, no worker left, no checkpoint to roll back to, no replacement for a lost shard, formation timeout--> Finished(failed)
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
    private long _totalSteps, _samplesSeen, _epochSteps, _epochSamples, _windowSamples, _epochReplicaSteps;
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
    private float[] _checkpointBuffers = [];
    private bool _midCheckpoint;
    private readonly CheckpointSchedule _schedule;
    private readonly HashSet<long> _epochConsumed = [];
    private bool _quiescing;
    private readonly HashSet<int> _awaitingPause = [];
    private Action? _afterPause;
    private Action? _afterBuffers;
    private readonly List<IActorRef> _sparePs = [];
    /// <summary>"data" members beyond the job's shape: each can take a lost data shard's place.</summary>
    private readonly List<IActorRef> _spareData = [];
    /// <summary>The row groups of each data shard (a replacement is assigned the lost shard's).</summary>
    private RowGroupRef[][] _dataGroups = [];
    private ResumePoint? _resume;
    private string? _lastCheckpoint;
    private Action? _afterRestore;
    private bool _continueWorkersOnStart;
    private long _epochRollbackReplayed;
    private Recovery? _recovery;
    private double _priorTrainSeconds;
    // Bad input: files refused by the inventory, and what the data shards refused in epoch 1 (the data set's count).
    private readonly BadInputCounts _badInput = new();
    private long _refusedSamples;
    // Unreachable since (by node address), and lost workers still waiting for the next step.
    private readonly Dictionary<Address, DateTime> _unreachableSince = [];
    private readonly List<RecoveryRecord> _awaitingResume = [];
    // Observability: what `dincluster status` (GetJobProgress) and the din_job_* gauges report.
    private readonly NodeMetrics _nodeMetrics = NodeMetrics.Get(Context.System);
    private readonly TextWriter _out;
    private string _state = "forming";
    private double _lastLoss = double.NaN;
    // Takeover (this coordinator started on a standby node after the active one was lost).
    private TakeoverRecord? _takeover;
    private bool _takeoverAwaitingStep;

    public TrainingCoordinator(CoordinatorSetup setup)
    {
        _setup = setup;
        _summary = setup.NewSummary(DateTime.UtcNow);
        _schedule = new CheckpointSchedule(setup.Job.CheckpointEverySteps, setup.Job.CheckpointEveryMinutes);
        // Console lines name the node: "[coordinator 127.0.0.1:4053] epoch 1: ...".
        _out = new NodeLineWriter(setup.Log, $"[coordinator {_nodeMetrics.Node}] ");
        _nodeMetrics.JobRunning.Set(1);
        Become(Forming);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(CoordinatorSetup setup) => Akka.Actor.Props.Create(() => new TrainingCoordinator(setup));

    private TextWriter Out => _out;
    private bool InCluster => ((ExtendedActorSystem)Context.System).Provider is Akka.Cluster.ClusterActorRefProvider;
    private SyncMode Sync => _setup.Options.Sync;

    protected override void PreStart()
    {
        // Reachability events, for summary.json (actor tests run the coordinator without a cluster).
        if (InCluster) Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartSingleTimer("formation", FormationTimedOut.Instance, _setup.FormationTimeout);
        var job = _setup.Job;
        try
        {
            Directory.CreateDirectory(job.OutDir);
            _trainUnits = LocalTrainer.Inventory(new BehaviourLogReader(job.Schema, job.OnBadInput, _badInput), job.TrainFiles(), out var readable);
            _refusedSamples = _badInput.TotalSkippedRows;
            var trainSamples = readable + _refusedSamples;
            if (_trainUnits.Count == 0) throw new InvalidDataException($"no training data: every file in {job.TrainDir} was refused ({_badInput})");
            _testUnits = LocalTrainer.Inventory(new BehaviourLogReader(job.Schema, job.OnBadInput), job.TestFiles(), out var testSamples);
            _summary.Dataset = new DatasetInfo
            {
                Path = job.DataDir,
                TrainSamples = trainSamples,
                TestSamples = testSamples,
                TrainFiles = _trainUnits.Select(u => u.File).Distinct().Count(),
                TrainRowGroups = _trainUnits.Count,
                BayesAuc = job.BayesAuc(),
            };
            if (_setup.Standby is { } standby && TakeOver(standby)) return;
            _metrics ??= new MetricsLog(Path.Combine(job.OutDir, "metrics.csv"));
            if (job.Resume && _takeover is null) _resume = ResumePoint.Find(job.OutDir, _setup.DataShards, (dir, why) =>
            {
                Out.WriteLine($"coordinator: checkpoint {Path.GetFileName(dir)} refused: {why}; trying the previous one");
                _summary.Failures.Add(new FailureRecord(DateTime.UtcNow, "checkpoint refused", "coordinator", $"{Path.GetFileName(dir)}: {why}"));
            });
            Out.WriteLine($"coordinator: {trainSamples:N0} training samples in {_trainUnits.Count} row groups, {testSamples:N0} test samples; waiting for {_setup.Workers} worker(s), {_setup.PsShards} PS shard(s), {_setup.DataShards} data shard(s)");
        }
        catch (Exception e) when (e is BadInputException or FileNotFoundException or InvalidDataException)
        {
            Self.Tell(new RunFailed(e.Message));
        }
    }

    /// <summary>
    /// The singleton started on a standby node: the active coordinator was lost. Continues from the newest valid
    /// checkpoint of the run (or from scratch without one). False when the job already ended on the other
    /// coordinator (its summary.json is newer than this process: the singleton moved here while that one left).
    /// </summary>
    private bool TakeOver(StandbyLog standby)
    {
        var job = _setup.Job;
        var summaryPath = Path.Combine(job.OutDir, "summary.json");
        if (File.Exists(summaryPath) && File.GetLastWriteTimeUtc(summaryPath) >= standby.StartedUtc && RunSummary.Read(summaryPath) is { Status: not "running" } ended)
        {
            Out.WriteLine($"coordinator (standby): the job already ended on the active coordinator ({ended.Status}); nothing to take over");
            _summary.Status = "standby";
            _setup.Result.TrySetResult(new ClusterRunResult(_summary, []));
            Become(Finished);
            return true;
        }
        standby.TookOver = true;
        _takeover = new TakeoverRecord { TakenOverUtc = DateTime.UtcNow };
        _metrics = new MetricsLog(Path.Combine(job.OutDir, "metrics.csv"), append: true);
        try
        {
            _resume = ResumePoint.Find(job.OutDir, _setup.DataShards, (dir, why) =>
            {
                Out.WriteLine($"coordinator: checkpoint {Path.GetFileName(dir)} refused: {why}; trying the previous one");
                _summary.Failures.Add(new FailureRecord(DateTime.UtcNow, "checkpoint refused", "coordinator", $"{Path.GetFileName(dir)}: {why}"));
            });
        }
        catch (FileNotFoundException)
        {
            _resume = null;
        }
        var lost = standby.Last;
        Out.WriteLine($"coordinator: taking the job over on this standby node ({(lost is null ? "the active coordinator is gone" : $"coordinator {lost.Node} removed {(DateTime.UtcNow - lost.RemovedUtc).TotalSeconds:F1}s ago")}); " +
            (_resume is { } r ? $"continuing from {Path.GetFileName(r.Directory)} (step {r.Progress.Step}, epoch {r.Progress.Epoch}) once the members announce themselves" : "no checkpoint was written: starting the job over"));
        return false;
    }

    /// <summary>Every data shard started the takeover's epoch: the takeover record is complete but for the first step.</summary>
    private void TakeoverStarted()
    {
        var t = _takeover!;
        if (_setup.Standby?.Last is { } lost)
        {
            t.OldCoordinator = lost.Node.ToString();
            t.UnreachableUtc = lost.UnreachableUtc;
            t.RemovedUtc = lost.RemovedUtc;
        }
        _summary.Takeover = t;
        _summary.Failures.Add(new FailureRecord(t.TakenOverUtc, "coordinator lost", t.OldCoordinator,
            t.Checkpoint is null
                ? "a standby coordinator took the job over and started it over (no checkpoint)"
                : $"a standby coordinator took the job over: every PS shard, the dense state and the data offsets restored from {Path.GetFileName(t.Checkpoint)}",
            t.SamplesReplayed));
        Out.WriteLine($"coordinator: took over from {(t.OldCoordinator.Length > 0 ? t.OldCoordinator : "the lost coordinator")}; {t.BatchesReplayed:N0} batch(es) ({t.SamplesReplayed:N0} samples) acked after {(t.Checkpoint is null ? "the start" : Path.GetFileName(t.Checkpoint))} are trained again");
        _takeoverAwaitingStep = true;
    }

    protected override void PostStop()
    {
        // Stopped mid-run (its node shut down: a signal, or downed): summary.json still records what was trained.
        if (_summary.Status == "running") Record("the training coordinator stopped before the run finished (its node shut down or left the cluster)");
        if (InCluster) Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
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
        _sparePs.AddRange(_ps.Except(ps));
        var data = Take(_data, _setup.DataShards);
        _spareData.AddRange(_data.Except(data));
        _workers.Clear(); _workers.AddRange(workers);
        _ps.Clear(); _ps.AddRange(ps);
        _data.Clear(); _data.AddRange(data);
        if (_setup.Nodes <= 0) _summary.Cluster.Nodes = CountNodes();

        // The dense parameters live with PS shard 0, which names them in its PsShardReady.
        _dense = ActorRefs.Nobody;
        for (var i = 0; i < _ps.Count; i++) _ps[i].Tell(new AssignPsShard(i, _ps.Count, _setup.Options));
        var groups = _dataGroups = RowGroupAssignment.Assign(_trainUnits.Select(u => new RowGroupRef(u.File, u.RowGroup, u.Rows)).ToList(), _data.Count);
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
        Receive<PsShardReady>(m =>
        {
            _generation = Math.Max(_generation, m.Generation);
            if (m.ShardIndex == 0) _dense = m.Dense;
            AssignedOne();
        });
        Receive<RowGroupsAssigned>(_ => AssignedOne());
        Receive<WorkerReady>(m =>
        {
            _liveWorkers.Add(m.WorkerIndex);
            if (--_pending > 0) return;
            if (_resume is { } r) Resume(r);
            else StartEpoch(1);
        });
        Common();
    }

    private void AssignedOne()
    {
        if (--_pending > 0) return;
        // --resume: the PS shards and the dense parameters take the checkpoint's state before any worker starts.
        if (_resume is { } r) RestoreState(r, StartWorkers);
        else StartWorkers();
    }

    private void StartWorkers()
    {
        Become(Assigning);
        _pending = _workers.Count;
        for (var w = 0; w < _workers.Count; w++)
            _workers[w].Tell(new StartTraining(w, _workers.Count, [.. _ps], _dense, [.. _data], _setup.Options, _generation));
    }

    // ---- Training(e)
    /// <summary>
    /// Starts <paramref name="epoch"/>, or continues it from <paramref name="restored"/> (resume, rollback):
    /// its accumulators and, per data shard, the batches the checkpoint holds.
    /// </summary>
    private void StartEpoch(int epoch, TrainingProgress? restored = null, bool clearCredit = false)
    {
        _epoch = epoch;
        _epochDone.Clear();
        _epochConsumed.Clear();
        var partial = restored is { EpochComplete: false } r && r.Epoch == epoch ? r : null;
        _epochSteps = partial?.EpochSteps ?? 0;
        _epochReplicaSteps = 0;
        _epochSamples = partial?.EpochSamples ?? 0;
        _epochLoss = partial?.EpochLossSum ?? 0;
        if (partial is not null) foreach (var d in partial.DataShards) _epochConsumed.UnionWith(d.ConsumedBatchIds);
        if (restored is null) _epochRollbackReplayed = 0;
        _epochClock.Restart();
        _clock.Start();
        _nodeMetrics.JobEpoch.Set(epoch);
        _windowClock.Restart();
        if (Sync == SyncMode.Ssp)
        {
            _gate = new SspGate(_setup.Options.Staleness);
            foreach (var w in _liveWorkers) _gate.Join(w);
            _announcedMin = null;
            // Every worker hears the new gate; an idle one answers WorkerWaiting and stops counting.
            AnnounceClock();
        }
        _pending = _data.Count;
        for (var d = 0; d < _data.Count; d++)
        {
            if (restored is null) _data[d].Tell(new StartEpoch(epoch));
            else _data[d].Tell(new RestoreEpoch(epoch, partial?.DataShards.FirstOrDefault(x => x.ShardIndex == d)?.ConsumedBatchIds ?? [], clearCredit));
        }
        _schedule.Reset(_totalSteps, DateTime.UtcNow);
        Become(Training);
    }

    private void Training()
    {
        _state = "training";
        Receive<EpochStarted>(m =>
        {
            // After a takeover: batches acked under the lost coordinator after the checkpoint are trained again.
            _epochRollbackReplayed += m.SamplesRolledBack;
            if (_takeover is { } t && !_takeoverAwaitingStep && _summary.Takeover is null)
            {
                t.BatchesReplayed += m.BatchesRolledBack;
                t.SamplesReplayed += m.SamplesRolledBack;
            }
            if (--_pending > 0) return;
            if (_takeover is not null && _summary.Takeover is null) TakeoverStarted();
            if (_continueWorkersOnStart)
            {
                // After a rollback: every data shard holds the restored ledger; workers may ask for batches.
                _continueWorkersOnStart = false;
                foreach (var w in _liveWorkers) _workers[w].Tell(new ContinueTraining(_totalSteps));
            }
            if (Sync == SyncMode.Bsp) BeginBspStep();
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
            _epochConsumed.Add(m.BatchId);
            if (m.DenseReplica) _epochReplicaSteps++;
            Count(m.Samples, m.Loss);
            if (_gate is not null)
            {
                _gate.Completed(m.WorkerIndex, m.Clock);
                AnnounceClock();
            }
            if (StepLimitReached()) StopEarly();
            else if (!MaybeCheckpoint()) EvaluateWhenStepsIn();
        });
        Receive<StepsOverdue>(_ =>
        {
            _log.Warning("epoch {0}: the data shards report {1:N0} samples consumed, the workers' steps {2:N0}; evaluating without the missing step reports",
                _epoch, _epochDone.Values.Sum(e => e.SamplesConsumed), _epochSamples);
            _stepsOverdue = true;
            EvaluateWhenStepsIn();
        });
        Receive<TrainingPaused>(m => Paused(m.WorkerIndex));
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
            _epochConsumed.UnionWith(b.BatchIds);
            Count(b.Samples, b.Loss);
            _bspStep++;
            if (StepLimitReached()) StopEarly();
            else if (_epochDone.Count == _data.Count) Evaluate();
            else if (!MaybeCheckpoint()) BeginBspStep();
        });
        Receive<RetryStep>(_ =>
        {
            if (_barrier is null) BeginBspStep();
        });
        Receive<BadInputCounted>(m =>
        {
            if (m.Epoch == 1) _badInput.Add(m.Rows, m.RowGroups, m.Files, m.TruncatedHistories);
        });
        Receive<EpochCompleted>(m =>
        {
            if (m.Epoch != _epoch) return;
            _epochDone[m.ShardIndex] = m;
            // In bsp the last global step may still be waiting to be applied; a pause for a checkpoint evaluates after it.
            EvaluateWhenStepsIn();
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
        if (_takeoverAwaitingStep)
        {
            var t = _takeover!;
            t.ResumedUtc = DateTime.UtcNow;
            t.RecoverySeconds = (t.ResumedUtc.Value - (t.RemovedUtc ?? t.TakenOverUtc)).TotalSeconds;
            _takeoverAwaitingStep = false;
            Out.WriteLine($"coordinator: training stepped again {t.RecoverySeconds:F1}s after the old coordinator was removed ({(t.ResumedUtc.Value - t.TakenOverUtc).TotalSeconds:F1}s after the takeover)");
        }
        if (_awaitingResume.Count > 0)
        {
            var now = DateTime.UtcNow;
            foreach (var r in _awaitingResume)
            {
                r.ResumedUtc = now;
                r.ResumeSeconds = (now - r.RemovedUtc).TotalSeconds;
                Out.WriteLine($"coordinator: training stepped again {r.ResumeSeconds:F1}s after {r.Node} was removed");
            }
            _awaitingResume.Clear();
        }
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

    /// <summary>--max-steps: stop taking steps, let those in flight be applied, and evaluate what was trained.</summary>
    private void StopEarly()
    {
        if (_stopRequested) return;
        _stopRequested = true;
        Quiesce(Evaluate);
    }

    // ---- Mid-epoch checkpoints. The state of one step needs every started step applied and none
    // half-applied: in bsp that is any point between global steps; in async/ssp the workers pause
    // (finish the batch they compute or push, start none) and report. StepCompleted precedes each
    // worker's TrainingPaused, so the batches counted then are exactly those whose gradients are in.
    private bool MaybeCheckpoint()
    {
        if (_quiescing || _stopRequested || !_schedule.Enabled || !_schedule.Due(_totalSteps, DateTime.UtcNow)) return false;
        if (!Directory.Exists(_setup.Job.OutDir)) return false;
        Quiesce(() => SyncBuffers(average => Checkpoint(mid: true, average)));
        return true;
    }

    /// <summary>Runs <paramref name="then"/> once no step is half-applied (bsp: callers are between global steps).</summary>
    private void Quiesce(Action then)
    {
        if (Sync == SyncMode.Bsp)
        {
            then();
            return;
        }
        _quiescing = true;
        _afterPause = then;
        _awaitingPause.Clear();
        _awaitingPause.UnionWith(_liveWorkers);
        foreach (var w in _liveWorkers) _workers[w].Tell(new PauseTraining(_totalSteps));
        if (_awaitingPause.Count == 0) Paused(-1);
    }

    private void Paused(int worker)
    {
        _awaitingPause.Remove(worker);
        if (!_quiescing || _awaitingPause.Count > 0) return;
        _quiescing = false;
        var then = _afterPause!;
        _afterPause = null;
        then();
    }

    /// <summary>After a mid-epoch checkpoint: workers take steps again, or the epoch (drained meanwhile) is evaluated.</summary>
    private void ContinueAfterCheckpoint()
    {
        if (Sync != SyncMode.Bsp)
            foreach (var w in _liveWorkers) _workers[w].Tell(new ContinueTraining(_totalSteps));
        Become(Training);
        if (_epochDone.Count == _data.Count && _barrier is null) EvaluateWhenStepsIn();
        else if (Sync == SyncMode.Bsp) BeginBspStep();
        else AnnounceClockIfGated();
    }

    // ---- SyncingBuffers(e): each worker's Dice running statistics saw only its own batches; the
    // test set is scored (and the checkpoint written) with their average, so all workers agree.
    /// <summary>
    /// Every data shard has its epoch acked: evaluate, once the workers' step reports account for every
    /// consumed sample. In async/ssp a worker acks a batch to its data shard and reports the step to the
    /// coordinator in two messages on two paths, so the last StepCompleted can arrive after the shards'
    /// EpochCompleted; after 5 s (a worker that died between the two) evaluate without it, with a warning.
    /// </summary>
    private void EvaluateWhenStepsIn()
    {
        if (_epochDone.Count != _data.Count || _barrier is not null || _quiescing) return;
        if (Sync != SyncMode.Bsp && !_stepsOverdue && _epochSamples < _epochDone.Values.Sum(e => e.SamplesConsumed))
        {
            if (!Timers.IsTimerActive("steps-overdue")) Timers.StartSingleTimer("steps-overdue", StepsOverdue.Instance, TimeSpan.FromSeconds(5));
            return;
        }
        Timers.Cancel("steps-overdue");
        _stepsOverdue = false;
        Evaluate();
    }

    private bool _stepsOverdue;

    private void Evaluate()
    {
        _clock.Stop();
        // Epoch throughput counts training only, as the local trainer's does.
        _epochTrainSeconds = _epochClock.Elapsed.TotalSeconds;
        Timers.Cancel("retry-step");
        SyncBuffers(StartEvaluation);
    }

    /// <summary>Asks every live worker for its Dice statistics; <paramref name="then"/> gets their average (empty if none).</summary>
    private void SyncBuffers(Action<float[]> then)
    {
        _awaitingBuffers.Clear();
        _bufferReplies.Clear();
        _afterBuffers = () => then(Average(_bufferReplies));
        foreach (var w in _liveWorkers)
        {
            _awaitingBuffers.Add(w);
            _workers[w].Tell(new GetBuffers(_epoch));
        }
        Become(SyncingBuffers);
        if (_awaitingBuffers.Count == 0) BuffersSynced();
    }

    private void BuffersSynced()
    {
        var then = _afterBuffers;
        _afterBuffers = null;
        then?.Invoke();
    }

    private void SyncingBuffers()
    {
        _state = "evaluating";
        Receive<WorkerBuffers>(m =>
        {
            if (m.Epoch != _epoch || !_awaitingBuffers.Remove(m.WorkerIndex)) return;
            _bufferReplies.Add(m.Buffers);
            if (_awaitingBuffers.Count == 0) BuffersSynced();
        });
        Receive<EpochCompleted>(RecordEpochDone);
        // ssp: a paused worker that runs out of batches says so once; the gate must hear it.
        Receive<WorkerWaiting>(m => _gate?.Waiting(m.WorkerIndex, m.Clock));
        IgnoreLateTraining();
        Common();
    }

    /// <summary>An epoch drained while a mid-epoch checkpoint was taken: evaluated when training continues.</summary>
    private void RecordEpochDone(EpochCompleted m)
    {
        if (m.Epoch == _epoch) _epochDone[m.ShardIndex] = m;
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
    private void StartEvaluation(float[] average)
    {
        if (average.Length > 0) _buffers = average;
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
        Receive<BadInputCounted>(_ => { });
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
            SamplesSkipped = done.Sum(e => e.SamplesSkipped) + _refusedSamples,
            SamplesReplayed = done.Sum(e => e.SamplesReplayed) + _epochRollbackReplayed,
            LedgerExact = done.Count == _data.Count && done.All(e => e.Exact) && done.Sum(e => e.SamplesConsumed + e.SamplesSkipped) + _refusedSamples == _summary.Dataset.TrainSamples,
            Steps = _epochSteps,
            DenseReplicaSteps = _epochReplicaSteps,
            TrainLoss = _epochSamples > 0 ? _epochLoss / _epochSamples : double.NaN,
            Seconds = seconds,
            SamplesPerSecond = _epochSamples / Math.Max(seconds, 1e-9),
            Test = test is null ? null : new TestMetrics(test.Auc, test.Gauc, test.LogLoss, test.Samples),
        };
        _summary.Epochs.Add(record);
        _summary.Steps = _totalSteps;
        _summary.TrainSeconds = _priorTrainSeconds + _clock.Elapsed.TotalSeconds;
        _metrics?.Add(new MetricsRow(_epoch, _totalSteps, _samplesSeen, _clock.Elapsed.TotalSeconds, null, record.SamplesPerSecond,
            test?.Auc, test?.Gauc, test?.LogLoss));
        Out.WriteLine($"epoch {_epoch}: {record.SamplesConsumed:N0}/{record.SamplesExpected:N0} samples (exact: {record.LedgerExact}, replayed {record.SamplesReplayed:N0}), train loss {record.TrainLoss:F4}, {record.SamplesPerSecond:N0} samples/s | test AUC {test?.Auc:F4} GAUC {test?.Gauc:F4} logloss {test?.LogLoss:F4}");
        Checkpoint(mid: false);
    }

    // ---- Checkpointing(e): training is paused between epochs, so the PS snapshots, the dense
    // state and the averaged statistics are of one step. PS shards write their files into the
    // pending folder (storage the nodes share: one host, or a shared volume); the coordinator
    // adds model.json and dense.bin and commits (CheckpointStore: checksums, atomic rename).
    private void Checkpoint(bool mid, float[]? buffers = null)
    {
        _midCheckpoint = mid;
        _checkpointBuffers = mid ? buffers ?? [] : _buffers;
        // A model without batch statistics (PReLU) has no buffers: still a checkpoint.
        if (!Directory.Exists(_setup.Job.OutDir))
        {
            if (mid) ContinueAfterCheckpoint();
            else NextEpochOrFinish();
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
        Receive<EpochCompleted>(RecordEpochDone);
        // ssp: a paused worker that runs out of batches says so once; the gate must hear it.
        Receive<WorkerWaiting>(m => _gate?.Waiting(m.WorkerIndex, m.Clock));
        IgnoreLateTraining();
        Common();
    }

    private void TryCommitCheckpoint()
    {
        if (_awaitingSnapshots > 0 || _denseState is not { } d || _pendingCheckpoint is not { } pending) return;
        var job = _setup.Job;
        if (_checkpointError is null)
        {
            var complete = !_midCheckpoint && !_stopRequested;
            var dir = ModelCheckpoint.Commit(pending, _epoch, complete, job.Schema, job.Model, job.Embeddings, job.Dense,
                new DenseState(d.AdamStep, d.Values, d.M, d.V), _checkpointBuffers, _ps.Count, CheckpointProgress(complete));
            _summary.Checkpoints.Add(Path.GetRelativePath(job.OutDir, dir));
            _lastCheckpoint = dir;
            if (_midCheckpoint) Out.WriteLine($"coordinator: checkpoint {Path.GetFileName(dir)} (epoch {_epoch}, mid-epoch, {_epochConsumed.Count} batches of the epoch in it)");
        }
        else
        {
            _summary.Failures.Add(new FailureRecord(DateTime.UtcNow, "checkpoint not written", "coordinator", _checkpointError));
            Out.WriteLine($"coordinator: checkpoint of step {pending.Step} not written: {_checkpointError}");
        }
        _pendingCheckpoint = null;
        _schedule.Reset(_totalSteps, DateTime.UtcNow);
        if (_midCheckpoint) ContinueAfterCheckpoint();
        else NextEpochOrFinish();
    }

    /// <summary>progress.json: where training stands at this checkpoint's step.</summary>
    private TrainingProgress CheckpointProgress(bool complete) => new()
    {
        Epoch = _epoch,
        EpochComplete = complete,
        Step = _totalSteps,
        BspStep = _bspStep,
        SamplesSeen = _samplesSeen,
        EpochSteps = _epochSteps,
        EpochSamples = _epochSamples,
        EpochLossSum = _epochLoss,
        DataShards = complete
            ? []
            : Enumerable.Range(0, _data.Count).Select(d => new DataShardProgress
            {
                ShardIndex = d,
                ConsumedBatchIds = [.. _epochConsumed.Where(id => BatchTicket.ShardOf(id) == d).Order()],
            }).ToList(),
        Epochs = [.. _summary.Epochs.Where(e => complete ? e.Epoch <= _epoch : e.Epoch < _epoch)],
    };

    // ---- Resume (train --resume) and rollback (a lost PS): every PS shard and the dense parameters
    // take the checkpoint's state, then the data shards its epoch ledger.
    private void RestoreState(ResumePoint point, Action then)
    {
        _afterRestore = then;
        var paths = ModelCheckpoint.SnapshotFiles(point.Directory).Select(Path.GetFullPath).ToArray();
        foreach (var p in _ps) p.Tell(new RestoreSnapshot(point.Progress.Step, paths, _generation));
        var d = point.Dense;
        _dense.Tell(new RestoreDenseState(point.Progress.Step, d.Step, d.Values, d.M, d.V, _generation));
        _pending = _ps.Count + 1;
        _state = "restoring";
        Become(Restoring);
    }

    private void Restoring()
    {
        Receive<SnapshotRestored>(m =>
        {
            if (m.Error.Length > 0)
            {
                Finish($"PS shard {m.ShardIndex} could not restore the checkpoint of step {m.Step}: {m.Error}");
                return;
            }
            Restored();
        });
        Receive<DenseStateRestored>(_ => Restored());
        IgnoreLateTraining();
        Receive<TrainingPaused>(_ => { });
        Receive<WorkerReset>(_ => { });
        Common();
    }

    private void Restored()
    {
        if (--_pending > 0) return;
        var then = _afterRestore!;
        _afterRestore = null;
        then();
    }

    /// <summary>Counters, finished epochs and Dice statistics of the checkpoint; workers get the statistics.</summary>
    private void ApplyProgress(ResumePoint point)
    {
        var p = point.Progress;
        _totalSteps = p.Step;
        _bspStep = p.BspStep;
        _samplesSeen = p.SamplesSeen;
        _summary.Epochs.Clear();
        _summary.Epochs.AddRange(p.Epochs);
        _buffers = point.Buffers;
        _lastCheckpoint = point.Directory;
        _barrier = null;
        _applying = false;
        _gate = null;
        if (_buffers.Length > 0)
            foreach (var w in _liveWorkers) _workers[w].Tell(new SetBuffers(p.Epoch, _buffers));
    }

    /// <summary>All workers ready on restored parameters: continue the checkpoint's epoch (or the next one).</summary>
    private void Resume(ResumePoint point)
    {
        var p = point.Progress;
        ApplyProgress(point);
        _priorTrainSeconds = p.Epochs.Sum(e => e.Seconds);
        if (_takeover is { } t)
        {
            t.Checkpoint = Path.GetRelativePath(_setup.Job.OutDir, point.Directory);
            t.CheckpointStep = p.Step;
            t.CheckpointEpoch = p.Epoch;
        }
        else _summary.ResumedFrom = new ResumeRecord(Path.GetRelativePath(_setup.Job.OutDir, point.Directory), p.Step, p.Epoch, p.EpochComplete, point.PsShards, _ps.Count);
        Out.WriteLine($"coordinator: resuming from {Path.GetFileName(point.Directory)}: step {p.Step}, epoch {p.Epoch} ({(p.EpochComplete ? "complete" : $"{p.DataShards.Sum(d => d.ConsumedBatchIds.Length)} batches done")}), {point.PsShards} -> {_ps.Count} PS shard(s)");
        if (p.ResumeEpoch > _setup.Job.Epochs)
        {
            // Taken over after the last epoch's checkpoint: nothing is left to train.
            if (_takeover is not null) TakeoverStarted();
            Finish(null);
        }
        else StartEpoch(p.ResumeEpoch, p);
    }

    // ---- Recovering: a PS shard or a data shard is gone. Training stops (workers drop what they hold),
    // a member of the same role takes the lost shard (a spare that joined beyond the job's shape, or a
    // restarted process), then EVERY PS shard, the dense state and the data ledgers roll back to the last
    // checkpoint: a lost data shard takes its ledger with it (which of its batches were applied since the
    // checkpoint), and a lost PS shard its rows.
    // <code>
    //   (Training | SyncingBuffers | Evaluating | Checkpointing) --PS or data shard lost--> Recovering
    //   Recovering --workers reset + replacement ready (PsShardReady / RowGroupsAssigned)--> Restoring
    //   Restoring --all restored--> Training (epoch of the checkpoint)
    // </code>
    private void Recover(IActorRef lost)
    {
        var role = _ps.Contains(lost) ? NodeRole.ParameterServer : NodeRole.DataShard;
        var shards = Shards(role);
        var index = shards.IndexOf(lost);
        var what = ShardName(role, index);
        if (_lastCheckpoint is null || !Directory.Exists(_lastCheckpoint))
        {
            Finish($"{what} ({lost.Path.Address}) is gone and no checkpoint was written yet to restore it from (--checkpoint-every-steps N or --checkpoint-every-minutes M write them mid-epoch)");
            return;
        }
        var self = Akka.Cluster.Cluster.Get(Context.System).SelfAddress;
        Out.WriteLine($"coordinator: {what} ({lost.Path.Address}) is gone; rolling back to {Path.GetFileName(_lastCheckpoint)} once a {RoleNames.Of(role)} node takes its place " +
            (Spares(role).Count > 0 ? "(a spare is there)" : $"(none is spare: start one, e.g. `dincluster node --role {RoleNames.Of(role)} --seeds {self.Host}:{self.Port}`, within {_setup.FormationTimeout})"));
        _summary.Failures.Add(new FailureRecord(DateTime.UtcNow, role == NodeRole.ParameterServer ? "ps lost" : "data lost", lost.Path.Address.ToString(),
            $"every PS shard, the dense state and the data offsets roll back to {Path.GetFileName(_lastCheckpoint)}"));
        _recovery = new Recovery(role, index, Stopwatch.StartNew(), _totalSteps, _samplesSeen);
        _clock.Stop();
        Timers.Cancel("retry-step");
        _quiescing = false;
        _afterPause = null;
        _afterBuffers = null;
        _pendingCheckpoint = null;
        _tasks.Clear();
        _awaitingBuffers.Clear();
        _awaitingResets.Clear();
        _awaitingResets.UnionWith(_liveWorkers);
        shards[index] = ActorRefs.Nobody;
        // Shard 0's node hosted the dense parameters: they come back with its replacement.
        if (role == NodeRole.ParameterServer && index == 0) _dense = ActorRefs.Nobody;
        // Pushes of the undone steps may still be on the wire; the restored shards refuse them.
        _generation++;
        foreach (var w in _liveWorkers) _workers[w].Tell(new ResetTraining(_epoch, [.. _ps], _dense, _generation, [.. _data]));
        Timers.StartSingleTimer("replacement", ReplacementTimedOut.Instance, _setup.FormationTimeout);
        _state = "recovering";
        Become(Recovering);
        TakeSpare();
    }

    private static string ShardName(NodeRole role, int index) => role == NodeRole.ParameterServer ? $"PS shard {index}" : $"data shard {index}";

    private readonly HashSet<int> _awaitingResets = [];
    /// <summary>
    /// Rollback generation of the pushes (<see cref="PushGradients.Generation"/>): the newest any PS shard
    /// reported when assigned (a shard assigned by a new coordinator starts a new one), plus one per rollback.
    /// </summary>
    private long _generation;
    private readonly HashSet<IActorRef> _unused = [];

    private void Recovering()
    {
        Receive<WorkerReset>(m =>
        {
            _awaitingResets.Remove(m.WorkerIndex);
            RecoveryStep();
        });
        Receive<JoinTraining>(m =>
        {
            if (m.Role != _recovery!.Role || Spares(m.Role).Contains(Sender) || Shards(m.Role).Contains(Sender)) return;
            Out.WriteLine($"coordinator: {RoleNames.Of(m.Role)} {Sender.Path} joined; it takes {ShardName(m.Role, _recovery.Shard)}");
            Spares(m.Role).Add(Sender);
            Context.Watch(Sender);
            TakeSpare();
        });
        Receive<RowGroupsAssigned>(m =>
        {
            if (_recovery is { Role: NodeRole.DataShard } r && m.ShardIndex == r.Shard && Sender.Equals(_data[r.Shard]))
                _recovery = r with { ReplacementReady = true };
            RecoveryStep();
        });
        Receive<PsShardReady>(m =>
        {
            if (_recovery is { Role: NodeRole.ParameterServer } r && m.ShardIndex == r.Shard && Sender.Equals(_ps[r.Shard]))
            {
                _recovery = r with { ReplacementReady = true };
                if (m.ShardIndex == 0 && !m.Dense.Equals(_dense))
                {
                    // The new dense actor: workers learn it before they continue (and reset again, harmlessly).
                    _dense = m.Dense;
                    foreach (var w in _liveWorkers) _workers[w].Tell(new ResetTraining(_epoch, [.. _ps], _dense, _generation, [.. _data]));
                    _awaitingResets.UnionWith(_liveWorkers);
                }
            }
            RecoveryStep();
        });
        Receive<ReplacementTimedOut>(_ => Finish($"{ShardName(_recovery!.Role, _recovery.Shard)} is gone and no {RoleNames.Of(_recovery.Role)} node took its place within {_setup.FormationTimeout}"));
        IgnoreLateTraining();
        Receive<TrainingPaused>(_ => { });
        Receive<WorkerBuffers>(_ => { });
        Receive<PredictionsScored>(_ => { });
        Receive<EvaluationTaskDone>(_ => { });
        Receive<SnapshotWritten>(_ => { });
        Receive<DenseStateSnapshot>(_ => { });
        Receive<EpochStarted>(_ => { });
        Common();
    }

    /// <summary>The job's PS or data shards, by index.</summary>
    private List<IActorRef> Shards(NodeRole role) => role == NodeRole.ParameterServer ? _ps : _data;

    private List<IActorRef> Spares(NodeRole role) => role == NodeRole.ParameterServer ? _sparePs : _spareData;

    private void TakeSpare()
    {
        if (_recovery is not { } r) return;
        var shards = Shards(r.Role);
        var spares = Spares(r.Role);
        if (!shards[r.Shard].IsNobody() || spares.Count == 0) return;
        var spare = spares[0];
        spares.RemoveAt(0);
        shards[r.Shard] = spare;
        if (r.Role == NodeRole.ParameterServer) spare.Tell(new AssignPsShard(r.Shard, _ps.Count, _setup.Options));
        else spare.Tell(new AssignRowGroups(r.Shard, _dataGroups[r.Shard], _setup.Options));
        // Workers learn the new shard with ResetTraining; those already reset get it again.
        foreach (var w in _liveWorkers) _workers[w].Tell(new ResetTraining(_epoch, [.. _ps], _dense, _generation, [.. _data]));
        _awaitingResets.UnionWith(_liveWorkers);
    }

    private void RecoveryStep()
    {
        if (_recovery is not { ReplacementReady: true } r || _awaitingResets.Count > 0) return;
        Timers.Cancel("replacement");
        var point = ResumePoint.Load(_lastCheckpoint!, _setup.DataShards);
        RestoreState(point, () =>
        {
            var p = point.Progress;
            var replayed = r.SamplesSeenAtLoss - p.SamplesSeen;
            ApplyProgress(point);
            var seconds = r.Clock.Elapsed.TotalSeconds;
            _summary.Rollbacks.Add(new RollbackRecord(DateTime.UtcNow, $"{ShardName(r.Role, r.Shard)} lost", Path.GetRelativePath(_setup.Job.OutDir, point.Directory),
                r.StepAtLoss, p.Step, replayed, seconds));
            Out.WriteLine($"coordinator: rolled back to step {p.Step} (from {r.StepAtLoss}); {replayed:N0} samples will be replayed; recovered in {seconds:F1}s");
            _recovery = null;
            _continueWorkersOnStart = true;
            _clock.Start();
            StartEpoch(p.ResumeEpoch, p, clearCredit: true);
            // Counted after StartEpoch (which keeps the sum only for a restored epoch).
            _epochRollbackReplayed += replayed;
        });
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
        Receive<JoinTraining>(m =>
        {
            if (m.Role is NodeRole.ParameterServer or NodeRole.DataShard && !Spares(m.Role).Contains(Sender) && !_ps.Contains(Sender) && !_data.Contains(Sender))
            {
                // A spare: it takes the place of a PS or data shard that is lost later.
                Spares(m.Role).Add(Sender);
                Context.Watch(Sender);
                _log.Info("{0} {1} joined after the cluster formed; kept as a spare", RoleNames.Of(m.Role), Sender.Path);
                return;
            }
            // Members not used by the run keep announcing themselves (CoordinatorLink): say so once.
            if (!_workers.Contains(Sender) && !_data.Contains(Sender) && _unused.Add(Sender)) _log.Info("{0} {1} joined after the cluster formed; not used by this run", m.Role, Sender.Path);
        });
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            var now = DateTime.UtcNow;
            _unreachableSince.TryAdd(m.Member.Address, now);
            _summary.Reachability.Add(new ReachabilityRecord(now, m.Member.Address.ToString(), "unreachable"));
            Out.WriteLine($"coordinator: node {m.Member.Address} ({string.Join(",", m.Member.Roles)}) is unreachable");
        });
        Receive<ClusterEvent.ReachableMember>(m =>
        {
            _unreachableSince.Remove(m.Member.Address);
            _summary.Reachability.Add(new ReachabilityRecord(DateTime.UtcNow, m.Member.Address.ToString(), "reachable"));
            Out.WriteLine($"coordinator: node {m.Member.Address} is reachable again");
        });
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
            if (_awaitingBuffers.Remove(w) && _awaitingBuffers.Count == 0) BuffersSynced();
            if (_awaitingPause.Contains(w)) Paused(w);
            var now = DateTime.UtcNow;
            _summary.Failures.Add(new FailureRecord(now, "worker lost", actor.Path.Address.ToString(), "its unacked batches were re-issued by the data shards"));
            var recovery = new RecoveryRecord
            {
                Kind = "worker lost",
                Node = actor.Path.Address.ToString(),
                UnreachableUtc = _unreachableSince.TryGetValue(actor.Path.Address, out var since) ? since : null,
                RemovedUtc = now,
            };
            _summary.Recoveries.Add(recovery);
            _awaitingResume.Add(recovery);
            var flagged = recovery.UnreachableUtc is { } flaggedAt ? $"unreachable {(now - flaggedAt).TotalSeconds:F1}s before" : "no unreachable event seen";
            Out.WriteLine($"coordinator: worker {w} ({actor.Path.Address}) is gone ({flagged}); {_liveWorkers.Count} left");
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
        if (_sparePs.Remove(actor) || _spareData.Remove(actor)) return;
        if (_ps.Contains(actor) || _data.Contains(actor))
        {
            var role = _ps.Contains(actor) ? NodeRole.ParameterServer : NodeRole.DataShard;
            if (_recovery is not null) Finish($"{ShardName(role, Shards(role).IndexOf(actor))} ({actor.Path.Address}) is gone during a recovery; giving up");
            else Recover(actor);
        }
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
        _summary.TrainSeconds = _priorTrainSeconds + _clock.Elapsed.TotalSeconds;
        _summary.BadInput = _badInput.IsEmpty ? null : _badInput.Snapshot();
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

    private sealed record StepsOverdue
    {
        public static readonly StepsOverdue Instance = new();
    }

    private sealed record RetryStep
    {
        public static readonly RetryStep Instance = new();
    }

    private sealed record RunFailed(string Error);

    private sealed record ReplacementTimedOut
    {
        public static readonly ReplacementTimedOut Instance = new();
    }

    private sealed record Recovery(NodeRole Role, int Shard, Stopwatch Clock, long StepAtLoss, long SamplesSeenAtLoss, bool ReplacementReady = false);
}

/// <summary>A checkpoint to continue from: its folder, progress, dense state, Dice statistics and PS shard count.</summary>
internal sealed record ResumePoint(string Directory, TrainingProgress Progress, DenseState Dense, float[] Buffers, int PsShards)
{
    /// <summary>The newest valid checkpoint of run <paramref name="outDir"/> (refused ones are reported by name).</summary>
    public static ResumePoint Find(string outDir, int dataShards, Action<string, string> refused) =>
        Load(ModelCheckpoint.Resolve(outDir, refused), dataShards);

    public static ResumePoint Load(string dir, int dataShards)
    {
        var manifest = CheckpointStore.Open(dir);
        var progress = TrainingProgress.Read(dir);
        if (progress.DataShards.Count > 0 && progress.DataShards.Count != dataShards)
            throw new InvalidDataException($"checkpoint {dir} was written mid-epoch with {progress.DataShards.Count} data shard(s); resume it with --data-shards {progress.DataShards.Count} (this run has {dataShards})");
        var (dense, buffers) = ModelCheckpoint.ReadDense(Path.Combine(dir, "dense.bin"));
        var ps = int.Parse(manifest.Meta.GetValueOrDefault("ps_shards", "0"), System.Globalization.CultureInfo.InvariantCulture);
        return new ResumePoint(dir, progress, dense, buffers, ps);
    }
}
