using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Observability;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Sync;
using DinCluster.Cluster.Transfer;
using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using DinCluster.Core.Optimizers;
using DinCluster.Core.Routing;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// A trainer: takes batches from the data shards on credit, pulls the unique ids' rows from the
/// PS shards that own them, has its <see cref="StepRunner"/> compute the step off the Akka pool,
/// pushes one gradient row per unique id and the dense gradient, and acks the batch once every
/// push is applied. While batch k computes, batch k+1's rows are already pulled; batch k's dense
/// push is answered with the weights after it, on which batch k+1 computes at once, while k's row
/// pushes are still being applied (async and ssp; bsp pulls after the previous global step is applied).
/// <code>
///   Idle --StartTraining--> Starting --ModelCreated, DenseWeights--> Training
///   a step in Training:  Pulling --rows + dense--> Ready --(gate)--> Computing --> Pushing --all applied--> acked
///   batch k:    ..Computing | Pushing ......... acked
///   batch k+1:  Pulling.....| (dense from k's reply) Computing | Pushing ... acked
/// </code>
/// Dense replica (async, ssp): the worker starts from the dense actor's full state (weights and Adam
/// moments) and applies its own dense gradients to that copy with the same Adam step the actor applies,
/// so its next batch computes at once, without waiting for the weights. Each push names the replica
/// version it was computed on; while no other worker writes, the actor's version matches, it replies
/// "in sync" with a checksum of its weights (no weights on the wire) and the worker checks its copy.
/// The first push that does not match (another worker wrote, or a batch was applied twice) gets the
/// weights back: the worker drops the replica and computes on the weights returned with each push reply.
/// After a rollback the replica restarts from the restored state.
/// Test evaluation (EvaluateRowGroup) runs between epochs, or while paused, when no step is in flight.
/// PauseTraining / ContinueTraining bracket a mid-epoch checkpoint; ResetTraining drops everything held (rollback).
/// When the coordinator is gone (its node removed) the worker drops everything too, goes back to Idle and
/// announces itself to the next coordinator (a standby that took the singleton over), which starts it again.
/// </summary>
public sealed class WorkerActor : ReceiveActor, IWithStash, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _coordinatorProxy;
    private readonly WorkerThreads _threads;
    private readonly Queue<(int Shard, Batch Batch)> _queue = new();
    private readonly Queue<EvaluateRowGroup> _evalTasks = new();
    private IActorRef _runner = ActorRefs.Nobody;
    private IActorRef _coordinator = ActorRefs.Nobody;
    private StartTraining _start = null!;
    private TrainJob _job = null!;
    private FeatureSchema _schema = null!;
    private ShardRouter _router = null!;
    private bool[] _exhausted = [];
    private long _nextRequest = 1;
    private long _clock;
    private long? _minClock;
    private long? _bspStep;
    private bool _waitingSent;
    private long? _pauseStep;
    private bool _pauseReplied;
    private bool _resetting;
    private Work? _current;
    private Work? _next;
    /// <summary>Batches whose gradients are sent and not yet all applied, oldest first.</summary>
    private readonly List<Work> _pushing = [];
    /// <summary>A dense push whose reply will carry the weights for the next batch is on its way.</summary>
    private bool _awaitingDenseReply;
    /// <summary>This worker's copy of the dense weights and Adam state; null when it follows the dense actor.</summary>
    private DenseParameters? _replica;
    /// <summary>Checksums of the replica after each local step, by version, until the actor confirms them.</summary>
    private readonly Dictionary<long, ulong> _replicaChecksums = [];
    /// <summary>Asked the dense actor for its full state (start, after a rollback); no batch starts until it comes.</summary>
    private bool _awaitingReplica;
    private Evaluation? _eval;
    private readonly WorkerInstruments _metrics;
    private readonly CoordinatorLink _link;

    public WorkerActor(IActorRef coordinatorProxy, WorkerThreads threads)
    {
        _coordinatorProxy = coordinatorProxy;
        _link = new CoordinatorLink(coordinatorProxy, NodeRole.Worker);
        _threads = threads;
        _metrics = new WorkerInstruments(NodeMetrics.Get(Context.System), Self.Path.Name);
        Become(Idle);
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef coordinatorProxy, WorkerThreads threads) =>
        Akka.Actor.Props.Create(() => new WorkerActor(coordinatorProxy, threads));

    protected override void PreStart()
    {
        _runner = Context.ActorOf(StepRunner.Props(ClusterSettings.ComputeDispatcher), "compute");
        _link.Join(Timers);
    }

    private int Index => _start.WorkerIndex;
    private SyncMode Sync => _start.Options.Sync;

    private void Idle()
    {
        Receive<StartTraining>(Start);
        Receive<Terminated>(m => CoordinatorLost(m.ActorRef));
        Receive<RejoinTick>(_ => _link.Tick(Timers));
        // Replies and batches of the work dropped when the coordinator was lost.
        ReceiveAny(_ => { });
    }

    private void Start(StartTraining m)
    {
        if (_link.Assigned(Context, Timers, Sender))
        {
            _log.Info("worker: started again by a new coordinator ({0}) as worker {1}", Sender.Path, m.WorkerIndex);
            DropAll();
        }
        _start = m;
        _coordinator = Sender;
        _job = TrainJobJson.Read(m.Options.JobJson);
        _schema = _job.Schema;
        _router = new ShardRouter(m.PsShards.Length);
        _exhausted = new bool[m.DataShards.Length];
        _runner.Tell(new StepRunner.CreateModel(_job, _threads));
        Become(Starting);
    }

    /// <summary>The coordinator is gone (its node was removed): drop everything and wait for the next one.</summary>
    private void CoordinatorLost(IActorRef actor)
    {
        if (_link.Lost(Context, Timers, actor) != LinkLoss.Lost) return;
        _log.Warning("worker {0}: the coordinator {1} is gone; dropping {2} queued batch(es){3} and waiting for the next coordinator",
            _start?.WorkerIndex ?? -1, actor.Path, _queue.Count, _current is null ? "" : " and the step in flight");
        DropAll();
        _coordinator = ActorRefs.Nobody;
        Become(Idle);
    }

    /// <summary>Back to the state of a fresh worker (a new coordinator starts it from a checkpoint).</summary>
    private void DropAll()
    {
        Stash.ClearStash();
        _queue.Clear();
        _evalTasks.Clear();
        _current = null;
        _next = null;
        _pushing.Clear();
        _awaitingDenseReply = false;
        DropReplica("coordinator lost");
        _awaitingReplica = false;
        _eval = null;
        _clock = 0;
        _minClock = null;
        _bspStep = null;
        _waitingSent = false;
        _pauseStep = null;
        _pauseReplied = false;
        _resetting = false;
    }

    private void Starting()
    {
        Receive<Terminated>(m => CoordinatorLost(m.ActorRef));
        Receive<RejoinTick>(_ => _link.Tick(Timers));
        Receive<StepRunner.ModelCreated>(m => _start.Dense.Tell(new InitDenseWeights(m.Dense)));
        Receive<DenseWeights>(_ =>
        {
            if (Sync == SyncMode.Bsp) Ready();
            else _start.Dense.Tell(new GetDenseState(-1));
        });
        Receive<DenseStateSnapshot>(m =>
        {
            AdoptReplica(m);
            Ready();
        });
        Receive<StepRunner.StepFailed>(Fail);
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        _log.Info("worker {0} ready ({1} PS shards, {2} data shards, {3}{4})", Index, _start.PsShards.Length, _start.DataShards.Length,
            SyncSpec.Format(Sync, _start.Options.Staleness), _replica is null ? "" : ", dense replica");
        _coordinator.Tell(new WorkerReady(Index));
        foreach (var shard in _start.DataShards) shard.Tell(new RequestBatches(Index, _start.Options.Credit));
        Become(Training);
        Stash.UnstashAll();
    }

    private void AdoptReplica(DenseStateSnapshot m)
    {
        _awaitingReplica = false;
        _replicaChecksums.Clear();
        _replica = DenseParameters.Import(new DenseState(m.AdamStep, m.Values, m.M, m.V), _job.Dense);
    }

    private void DropReplica(string why)
    {
        if (_replica is null) return;
        _log.Info("worker {0}: dense replica dropped at version {1} ({2}); computing on the dense actor's weights", Index, _replica.Step, why);
        _replica = null;
        _replicaChecksums.Clear();
    }

    private void Training()
    {
        Receive<BatchIssued>(m =>
        {
            _exhausted[m.ShardIndex] = false;
            _queue.Enqueue((m.ShardIndex, m.Batch));
            Pump();
        });
        Receive<NoBatchesLeft>(m =>
        {
            _exhausted[m.ShardIndex] = true;
            Pump();
        });
        Receive<RowsPulled>(m =>
        {
            if (_current?.Pull.Accept(m) != true && _next?.Pull.Accept(m) != true && _eval?.Pull?.Accept(m) != true)
                _log.Warning("worker {0}: reply to unknown pull {1}", Index, m.RequestId);
            _metrics.Pulled(m, _current, _next);
            Pump();
        });
        Receive<DenseWeights>(m =>
        {
            if (_current?.DenseRequest == m.RequestId) _current.Dense = m.Weights;
            else if (_next?.DenseRequest == m.RequestId) _next.Dense = m.Weights;
            else if (_eval?.DenseRequest == m.RequestId) _eval.Dense = m.Weights;
            Pump();
        });
        Receive<StepRunner.TrainStepDone>(PushResults);
        // A reply to a push of an older generation (before a rollback) is about a batch this worker dropped;
        // the same batch id may be pushing again now, re-issued.
        Receive<GradientsApplied>(m =>
        {
            if (m.Generation == _start.Generation) Applied(m.BatchId, m.Outcome);
        });
        Receive<DenseGradientsApplied>(m =>
        {
            // A reply to a push dropped by a rollback is about undone steps.
            if (m.Generation != _start.Generation) return;
            var live = _pushing.Any(p => p.Batch.BatchId == m.BatchId);
            if (live && m.ReplicaInSync && _replicaChecksums.Remove(m.Version, out var mine))
            {
                if (mine != m.Checksum) DropReplica($"checksum of version {m.Version} differs from the dense actor's");
                else
                {
                    _pushing.First(p => p.Batch.BatchId == m.BatchId).ReplicaConfirmed = true;
                    _metrics.ReplicaStep();
                }
                foreach (var old in _replicaChecksums.Keys.Where(v => v < m.Version).ToList()) _replicaChecksums.Remove(old);
            }
            if (live && m.Weights.Length > 0)
            {
                _awaitingDenseReply = false;
                DropReplica($"batch {m.BatchId} was not computed on the dense actor's version {m.Version - 1}: another writer");
                // Weights after this worker's last push: the batch waiting for them computes on them
                // (also one that took the dropped replica's weights and has not started computing).
                // With no batch waiting they are dropped; the next one asks (GetDenseWeights).
                if (_current is { Dense: null, DenseRequested: false } waiting) waiting.Dense = m.Weights;
                else if (_current is { ReplicaVersion: >= 0, Phase: Phase.Pulling or Phase.Ready } stale)
                {
                    stale.Dense = m.Weights;
                    stale.ReplicaVersion = -1;
                }
            }
            Applied(m.BatchId, m.Outcome);
        });
        Receive<DenseStateSnapshot>(m =>
        {
            // Asked after a rollback; nothing was started since (CanTakeBatch), so the replica is the actor's state.
            if (!_awaitingReplica) return;
            AdoptReplica(m);
            Pump();
        });
        Receive<ClockAdvanced>(m =>
        {
            _minClock = m.MinClock == long.MaxValue ? null : m.MinClock;
            // An idle worker says so again: a WorkerWaiting sent before the coordinator's gate of this
            // epoch existed (or while it was between epochs) is lost, and the others would wait for it.
            _waitingSent = false;
            Pump();
        });
        Receive<BeginStep>(m =>
        {
            _bspStep = m.Step;
            Pump();
        });
        // Both go through the runner, which owns the network; in mailbox order, so statistics set
        // here are in place before any evaluation batch that follows.
        Receive<GetBuffers>(m => _runner.Forward(new StepRunner.ReadBuffers(Index, m.Epoch)));
        Receive<SetBuffers>(m => _runner.Tell(m));
        Receive<EvaluateRowGroup>(m =>
        {
            _evalTasks.Enqueue(m);
            Pump();
        });
        Receive<StepRunner.EvalGroupRead>(m =>
        {
            if (_eval?.Task.TaskId != m.TaskId) return; // dropped by a rollback
            _eval.Batches = m.Batches;
            Pump();
        });
        Receive<StepRunner.Predicted>(m =>
        {
            if (_eval?.Task.TaskId != m.TaskId || _eval.Batches is null) return; // dropped by a rollback
            var batch = _eval.Batches[m.Sequence];
            var group = _schema.SparseIndex(_schema.GroupBy);
            _coordinator.Tell(new PredictionsScored(_eval.Task.Epoch, m.TaskId, group >= 0 ? batch.Sparse[group] : new long[batch.Count], m.Scores, batch.Labels));
            _eval.Sequence++;
            _eval.Pull = null;
            _eval.Computing = false;
            Pump();
        });
        Receive<PauseTraining>(m =>
        {
            _pauseStep = m.Step;
            _pauseReplied = false;
            Pump();
        });
        Receive<ContinueTraining>(_ =>
        {
            _pauseStep = null;
            if (_resetting)
            {
                _resetting = false;
                if (Sync != SyncMode.Bsp)
                {
                    _awaitingReplica = true;
                    _start.Dense.Tell(new GetDenseState(-1));
                }
                foreach (var shard in _start.DataShards) shard.Tell(new RequestBatches(Index, _start.Options.Credit));
            }
            Pump();
        });
        Receive<ResetTraining>(Reset);
        Receive<StepRunner.StepFailed>(Fail);
        Receive<StopTraining>(_ => Context.Stop(Self));
        Receive<Terminated>(m => CoordinatorLost(m.ActorRef));
        Receive<RejoinTick>(_ => _link.Tick(Timers));
        // A new coordinator before this worker heard that the old one is gone.
        Receive<StartTraining>(m =>
        {
            if (!Sender.Equals(_coordinator)) Start(m);
        });
    }

    /// <summary>
    /// Rollback: everything held belongs to steps that are undone. Until <see cref="ContinueTraining"/>
    /// this worker computes nothing and asks for no batch (batches that still arrive are kept: the
    /// restored ledger has them pending, and a late ack of a pending batch consumes it once).
    /// </summary>
    private void Reset(ResetTraining m)
    {
        _log.Info("worker {0}: rollback; dropping {1} queued batch(es){2}", Index, _queue.Count, _current is null ? "" : " and the step in flight");
        _queue.Clear();
        _current = null;
        _next = null;
        _pushing.Clear();
        _awaitingDenseReply = false;
        DropReplica("rollback");
        _eval = null;
        _evalTasks.Clear();
        _start = _start with { PsShards = m.PsShards, Dense = m.Dense, Generation = m.Generation, DataShards = m.DataShards };
        _minClock = null;
        _bspStep = null;
        _waitingSent = false;
        Array.Fill(_exhausted, false);
        _resetting = true;
        _pauseStep = long.MaxValue;
        _pauseReplied = true;
        _coordinator.Tell(new WorkerReset(Index));
    }

    /// <summary>Moves every piece of work as far as it can go; called after each message.</summary>
    private void Pump()
    {
        if (_current is null)
        {
            if (_next is not null) (_current, _next) = (_next, null);
            else if (CanTakeBatch() && _queue.TryDequeue(out var item)) _current = StartPull(item.Shard, item.Batch);
        }
        // Dense weights come after this worker's previous dense gradient was applied (with the reply
        // to that push, or asked for): a prefetched copy would miss it, and a dense step computed on
        // weights one update old measurably slows learning (unlike stale embedding rows).
        if (_current is { Dense: null, DenseRequested: false } d)
        {
            if (_replica is not null)
            {
                d.Dense = _replica.Values;
                d.ReplicaVersion = _replica.Step;
            }
            else if (!_awaitingDenseReply) RequestDense(d);
        }
        if (_current is { Phase: Phase.Pulling } c && c.Pull.IsComplete && c.Dense is not null)
        {
            c.Phase = Phase.Ready;
            c.ReadyAt = Stopwatch.GetTimestamp();
        }
        if (_current is { Phase: Phase.Ready } r && _pushing.Count < MaxPushesInFlight && GateOpen())
        {
            r.Phase = Phase.Computing;
            r.ComputeStarted = Stopwatch.GetTimestamp();
            _metrics.ComputeStarting(r);
            _runner.Tell(new StepRunner.RunTrainStep(r.Batch, r.Index, r.Pull.Rows.Select(t => t.Values).ToArray(), r.Dense!));
        }
        // Prefetch: the next batch's rows are pulled while the current one computes (not in bsp,
        // where rows must come after the previous global step is applied).
        if (Sync != SyncMode.Bsp && _current is { Phase: Phase.Computing } && _next is null && _queue.TryDequeue(out var following))
            _next = StartPull(following.Shard, following.Batch);

        if (Sync == SyncMode.Bsp && _bspStep is { } step && _current is null && _queue.Count == 0 && _exhausted.All(e => e))
        {
            _coordinator.Tell(new StepSkipped(Index, step));
            _bspStep = null;
        }
        if (Sync == SyncMode.Ssp && _current is null && _queue.Count == 0 && !_waitingSent)
        {
            _coordinator.Tell(new WorkerWaiting(Index, _clock));
            _waitingSent = true;
        }
        if (_pauseStep is { } pause && !_pauseReplied && _current is not { Phase: Phase.Computing } && _pushing.Count == 0)
        {
            // Every step this worker started is applied and its StepCompleted sent (before this reply).
            _pauseReplied = true;
            _coordinator.Tell(new TrainingPaused(Index, pause));
        }
        // Test scoring needs the runner free of training steps: nothing held (between epochs), or
        // paused with the held batch not yet computing (a run stopped by --max-steps in async).
        if (_pushing.Count == 0 && ((_current is null && _next is null) || (_pauseStep is not null && _current is not { Phase: Phase.Computing }))) PumpEvaluation();
        _metrics.Queue.Set(_queue.Count);
    }

    /// <summary>Pushes of batches not yet fully applied that a worker may have before it starts computing another.</summary>
    private const int MaxPushesInFlight = 2;

    private bool CanTakeBatch() => !_resetting && !_awaitingReplica && (Sync != SyncMode.Bsp || _bspStep is not null);

    /// <summary>ssp: batches still being pushed count as steps taken, so the worker never runs more than K ahead. Paused: no new step.</summary>
    private bool GateOpen() => _pauseStep is null && (Sync != SyncMode.Ssp || SspGate.CanStart(_clock + _pushing.Count, _minClock, _start.Options.Staleness));

    private Work StartPull(int shard, Batch batch)
    {
        var index = BatchIndex.Build(batch, _schema);
        var plan = new PullPlan(index, _schema.Tables, _router, _start.Options.MaxMessageBytes, _nextRequest);
        foreach (var (ps, request) in plan.Requests) _start.PsShards[ps].Tell(request);
        var denseRequest = plan.NextRequestId;
        _nextRequest = denseRequest + 1;
        _waitingSent = false;
        return new Work(shard, batch, index, plan, denseRequest, Sync == SyncMode.Bsp ? _bspStep!.Value : _clock);
    }

    private void RequestDense(Work work)
    {
        work.DenseRequested = true;
        _start.Dense.Tell(new GetDenseWeights(work.DenseRequest));
    }

    private void PushResults(StepRunner.TrainStepDone m)
    {
        // A step computed for a batch dropped by a rollback: its gradients are of undone state.
        if (_current is not { Phase: Phase.Computing } w || w.Batch.BatchId != m.BatchId) return;
        var result = m.Result;
        w.Loss = result.Loss;
        var gradients = _schema.Tables.Select((t, i) => new TableRows(t.Name, t.Dim, w.Index.UniqueIds[i], result.RowGradients[i])).ToArray();
        var counts = Enumerable.Range(0, _schema.Tables.Count).Select(t => w.Index.OccurrenceCounts(_schema, t)).ToArray();
        var pushes = PushPlan.Build(gradients, counts, _router, _start.Options.MaxMessageBytes, w.Batch.BatchId, w.Step, Index, w.Batch.Count, _start.Generation);
        foreach (var (ps, push) in pushes) _start.PsShards[ps].Tell(push);
        var returnWeights = Sync != SyncMode.Bsp;
        var replicaVersion = _replica is not null && w.ReplicaVersion == _replica.Step ? w.ReplicaVersion : -1;
        _start.Dense.Tell(new PushDenseGradients(w.Batch.BatchId, w.Step, Index, w.Batch.Count, result.DenseGradient, returnWeights, replicaVersion, _start.Generation));
        if (replicaVersion >= 0)
        {
            // The same step the dense actor applies (a non-finite gradient is refused by both).
            _replica!.Apply(result.DenseGradient);
            _replicaChecksums[_replica.Step] = DenseChecksum.Of(_replica.Values);
        }
        _awaitingDenseReply = returnWeights && replicaVersion < 0;
        // One reply per shard (to its last part) plus the dense parameters.
        w.PendingAcks = pushes.Select(p => p.Shard).Distinct().Count() + 1;
        _metrics.Pushed(w, gradients, result.DenseGradient.Length);
        w.Phase = Phase.Pushing;
        _pushing.Add(w);
        _current = null;
        // bsp: this worker's part of the global step is done; the next BeginStep starts another.
        if (Sync == SyncMode.Bsp) _bspStep = null;
        Pump();
    }

    private void Applied(long batchId, PushOutcome outcome)
    {
        var at = _pushing.FindIndex(p => p.Batch.BatchId == batchId);
        if (at < 0) return;
        var w = _pushing[at];
        if (outcome == PushOutcome.RejectedNaN) _log.Warning("worker {0}: gradients of batch {1} were rejected as non-finite", Index, batchId);
        if (--w.PendingAcks > 0)
        {
            Pump();
            return;
        }
        _pushing.RemoveAt(at);
        _start.DataShards[w.Shard].Tell(new BatchAcked(batchId, Index));
        _clock++;
        _metrics.Applied(w);
        _coordinator.Tell(new StepCompleted(Index, Sync == SyncMode.Bsp ? w.Step : _clock, batchId, w.Batch.Count, w.Loss, w.ReplicaConfirmed));
        _start.DataShards[w.Shard].Tell(new RequestBatches(Index, 1));
        Pump();
    }

    /// <summary>Test scoring, one row group at a time: read, then per batch pull rows and predict.</summary>
    private void PumpEvaluation()
    {
        if (_eval is null)
        {
            if (!_evalTasks.TryDequeue(out var task)) return;
            _eval = new Evaluation(task, _nextRequest++);
            _start.Dense.Tell(new GetDenseWeights(_eval.DenseRequest));
            _runner.Tell(new StepRunner.ReadEvalGroup(task.TaskId, task.RowGroup));
            return;
        }
        if (_eval.Batches is null || _eval.Dense is null || _eval.Computing) return;
        if (_eval.Sequence == _eval.Batches.Length)
        {
            _coordinator.Tell(new EvaluationTaskDone(_eval.Task.Epoch, _eval.Task.TaskId, _eval.Batches.Sum(b => (long)b.Count)));
            _eval = null;
            PumpEvaluation();
            return;
        }
        var batch = _eval.Batches[_eval.Sequence];
        if (_eval.Pull is null)
        {
            _eval.Index = BatchIndex.Build(batch, _schema);
            _eval.Pull = new PullPlan(_eval.Index, _schema.Tables, _router, _start.Options.MaxMessageBytes, _nextRequest);
            _nextRequest = _eval.Pull.NextRequestId;
            foreach (var (ps, request) in _eval.Pull.Requests) _start.PsShards[ps].Tell(request);
        }
        if (!_eval.Pull.IsComplete) return;
        _eval.Computing = true;
        _runner.Tell(new StepRunner.RunPredict(_eval.Task.TaskId, _eval.Sequence, batch, _eval.Index!, _eval.Pull.Rows.Select(t => t.Values).ToArray(), _eval.Dense));
    }

    private void Fail(StepRunner.StepFailed m)
    {
        // Stopping makes the data shards re-issue this worker's batches to the others.
        _log.Error("worker {0}: compute failed: {1}; stopping", _start?.WorkerIndex ?? -1, m.Error);
        Context.Stop(Self);
    }

    private enum Phase { Pulling, Ready, Computing, Pushing }

    private sealed class Work(int shard, Batch batch, BatchIndex index, PullPlan pull, long denseRequest, long step)
    {
        public int Shard { get; } = shard;
        public Batch Batch { get; } = batch;
        public BatchIndex Index { get; } = index;
        public PullPlan Pull { get; } = pull;
        public long DenseRequest { get; } = denseRequest;
        public long Step { get; } = step;
        public float[]? Dense { get; set; }
        /// <summary>The replica version <see cref="Dense"/> is, or -1 when it came from the dense actor.</summary>
        public long ReplicaVersion { get; set; } = -1;
        /// <summary>The dense actor confirmed that this step's replica weights were its own.</summary>
        public bool ReplicaConfirmed { get; set; }
        public bool DenseRequested { get; set; }
        public Phase Phase { get; set; } = Phase.Pulling;
        public int PendingAcks { get; set; }
        public double Loss { get; set; }
        // Observability (Stopwatch timestamps): pull start, compute start, push start.
        public long Started { get; } = Stopwatch.GetTimestamp();
        public long ComputeStarted { get; set; }
        /// <summary>Rows (and dense weights) in: the batch could compute from here on.</summary>
        public long ReadyAt { get; set; }
        public long PushStarted { get; set; }
        public bool PullObserved { get; set; }
    }

    protected override void PostStop() => _metrics.LogSummary(_log, _start?.WorkerIndex ?? -1);

    /// <summary>
    /// This worker's series in <see cref="NodeMetrics"/>, updated at existing points of a step, and
    /// where its compute time went (logged when the worker stops): each gap between two steps is
    /// split into waiting for the next batch, for its rows (and dense weights), and the rest (push
    /// acks of earlier batches, the ssp gate, a pause).
    /// </summary>
    private sealed class WorkerInstruments(NodeMetrics m, string actor)
    {
        private long _firstStart, _lastEnd, _computeTicks, _waitBatch, _waitRows, _waitAcks, _computed;

        public void ComputeStarting(Work w)
        {
            var now = w.ComputeStarted;
            if (_firstStart == 0) _firstStart = now;
            else if (_lastEnd > 0 && now > _lastEnd)
            {
                // The gap since the last step, in order: no batch yet, then its rows (and dense weights) on
                // the way, then the rest (push acks of earlier batches, the ssp gate, a pause).
                var from = _lastEnd;
                _waitBatch += Math.Max(0, w.Started - from);
                from = Math.Max(from, w.Started);
                _waitRows += Math.Max(0, w.ReadyAt - from);
                _waitAcks += Math.Max(0, now - Math.Max(from, w.ReadyAt));
            }
        }

        public void LogSummary(ILoggingAdapter log, int worker)
        {
            if (_computed == 0) return;
            var span = (double)(_lastEnd - _firstStart);
            string Pct(long ticks) => $"{100 * ticks / span:F0}%";
            log.Info($"worker {worker}: {_computed} steps in {span / Stopwatch.Frequency:F1} s: computing {Pct(_computeTicks)} " +
                $"({1000.0 * _computeTicks / Stopwatch.Frequency / _computed:F1} ms/step); between steps waiting for batches {Pct(_waitBatch)}, " +
                $"rows {Pct(_waitRows)}, push acks / gate {Pct(_waitAcks)}");
        }

        private readonly Counter _samples = m.SamplesTrained(actor);
        private readonly Counter _steps = m.Steps(actor);
        private readonly Counter _replicaSteps = m.DenseReplicaSteps(actor);
        private readonly Histogram _stepSeconds = m.StepSeconds(actor);
        private readonly Histogram _pullSeconds = m.PullSeconds(actor);
        private readonly Counter _pullBytes = m.PullBytes(actor);
        private readonly Histogram _pushSeconds = m.PushSeconds(actor);
        private readonly Counter _pushBytes = m.PushBytes(actor);
        public Gauge Queue { get; } = m.PrefetchQueue(actor);

        public void Pulled(RowsPulled reply, Work? current, Work? next)
        {
            _pullBytes.Add(reply.Rows.Ids.Length * 8L + reply.Rows.Values.Length * 4L);
            foreach (var w in (ReadOnlySpan<Work?>)[current, next])
                if (w is { PullObserved: false } && w.Pull.IsComplete)
                {
                    w.PullObserved = true;
                    _pullSeconds.Observe(Stopwatch.GetElapsedTime(w.Started).TotalSeconds);
                }
        }

        public void Pushed(Work w, TableRows[] gradients, int denseFloats)
        {
            w.PushStarted = Stopwatch.GetTimestamp();
            _lastEnd = w.PushStarted;
            _computeTicks += w.PushStarted - w.ComputeStarted;
            _computed++;
            _stepSeconds.Observe(Stopwatch.GetElapsedTime(w.ComputeStarted, w.PushStarted).TotalSeconds);
            _pushBytes.Add(gradients.Sum(g => g.Ids.Length * 8L + g.Values.Length * 4L) + denseFloats * 4L);
        }

        public void ReplicaStep() => _replicaSteps.Increment();

        public void Applied(Work w)
        {
            _pushSeconds.Observe(Stopwatch.GetElapsedTime(w.PushStarted).TotalSeconds);
            _samples.Add(w.Batch.Count);
            _steps.Increment();
        }
    }

    private sealed class Evaluation(EvaluateRowGroup task, long denseRequest)
    {
        public EvaluateRowGroup Task { get; } = task;
        public long DenseRequest { get; } = denseRequest;
        public float[]? Dense { get; set; }
        public Batch[]? Batches { get; set; }
        public int Sequence { get; set; }
        public BatchIndex? Index { get; set; }
        public PullPlan? Pull { get; set; }
        public bool Computing { get; set; }
    }
}
