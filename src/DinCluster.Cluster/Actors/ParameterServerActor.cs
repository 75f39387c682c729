using Akka.Actor;
using Akka.Event;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Observability;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Sync;
using DinCluster.Cluster.Transfer;
using DinCluster.Core.Batches;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Optimizers;
using ShardStats = DinCluster.Cluster.Protocol.ShardStats;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// One PS shard: routes pulls and pushes to an <see cref="EmbeddingShard"/>, which decides
/// (init, optimizer, dedup by batch id, NaN rejection). Large pull replies go in parts under the
/// message budget; pushes arrive in parts and are applied once whole. In BSP, pushes wait in a
/// <see cref="StepBuffer"/> for the coordinator's <see cref="ApplyStep"/>.
/// <code>
///   Unassigned --AssignPsShard--> Serving
///   Serving --its coordinator gone--> Serving (announces itself to the new one) --AssignPsShard from another coordinator--> fresh shard
/// </code>
/// After a coordinator takeover the new coordinator assigns the shard again (a fresh table) and restores it
/// from the newest checkpoint, as every other shard.
/// </summary>
public sealed class ParameterServerActor : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private PushAssembler _assembler = new();
    private StepBuffer _steps = new();
    private EmbeddingShard _shard = null!;
    private TrainOptions _options = null!;
    private TrainJob _job = null!;
    private PsInstruments _metrics = null!;
    private long _pullRequests, _rowsPulled, _pushesApplied, _duplicates, _nanRejected;
    // Shard 0 hosts the job's dense parameters (a child, fresh at every assignment): the worker's
    // dense pushes then go where its row pushes go, and in the simulated cluster stay in the node.
    private IActorRef _dense = ActorRefs.Nobody;
    private int _denseIncarnation;

    private readonly CoordinatorLink _link;

    public ParameterServerActor(IActorRef coordinator)
    {
        _link = new CoordinatorLink(coordinator, NodeRole.ParameterServer);
        Become(Unassigned);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef coordinator) => Akka.Actor.Props.Create(() => new ParameterServerActor(coordinator));

    protected override void PreStart() => _link.Join(Timers);

    private void Unassigned()
    {
        Receive<AssignPsShard>(Assign);
        Receive<RejoinTick>(_ => _link.Tick(Timers));
    }

    /// <summary>Rollback generation: pushes of an older one are refused (see <see cref="PushGradients.Generation"/>).</summary>
    private long _generation;
    private long _stale;

    private void Assign(AssignPsShard m)
    {
        if (_link.Assigned(Context, Timers, Sender))
        {
            // Pushes of the old coordinator's workers may still be on the wire: a new generation refuses them.
            _generation++;
            _log.Info("PS shard {0}: assigned again by a new coordinator ({1}); starting from a fresh table (generation {2})", m.ShardIndex, Sender.Path, _generation);
        }
        var job = _job = TrainJobJson.Read(m.Options.JobJson);
        _shard = new EmbeddingShard(job.Schema.Tables, job.Embeddings, m.ShardIndex, m.ShardCount);
        _options = m.Options;
        _metrics = new PsInstruments(NodeMetrics.Get(Context.System), m.ShardIndex);
        PublishStats();
        if (!_dense.IsNobody()) Context.Stop(_dense);
        _dense = m.ShardIndex == 0
            ? Context.ActorOf(DenseParameterActor.Props(job.Dense, m.Options.Sync == SyncMode.Bsp), $"dense-{++_denseIncarnation}")
            : ActorRefs.Nobody;
        _log.Info("PS shard {0}/{1} serving tables {2}{3}", m.ShardIndex, m.ShardCount, string.Join(", ", job.Schema.Tables.Select(t => t.Name)),
            _dense.IsNobody() ? "" : " and the dense parameters");
        Sender.Tell(new PsShardReady(m.ShardIndex, _generation, _dense));
        Become(Serving);
    }

    private void Serving()
    {
        Receive<AssignPsShard>(m =>
        {
            if (Sender.Equals(_link.Current)) Sender.Tell(new PsShardReady(m.ShardIndex, _generation, _dense));
            else Assign(m);
        });
        Receive<Terminated>(m =>
        {
            if (_link.Lost(Context, Timers, m.ActorRef) == LinkLoss.Lost)
                _log.Warning("PS shard {0}: the coordinator {1} is gone; announcing this shard to the next one", _shard.ShardIndex, m.ActorRef.Path);
        });
        Receive<RejoinTick>(_ => _link.Tick(Timers));
        Receive<PullRows>(Pull);
        Receive<PushGradients>(Push);
        Receive<ApplyStep>(Apply);
        Receive<WriteSnapshot>(m =>
        {
            try
            {
                EmbeddingSnapshot.Write(_shard, m.Path);
                Sender.Tell(new SnapshotWritten(_shard.ShardIndex, m.Step, m.Path, ""));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Error(e, "PS shard {0}: snapshot to {1} failed", _shard.ShardIndex, m.Path);
                Sender.Tell(new SnapshotWritten(_shard.ShardIndex, m.Step, m.Path, e.Message));
            }
        });
        Receive<RestoreSnapshot>(m =>
        {
            try
            {
                var restored = EmbeddingSnapshot.Restore(m.Paths, _shard.ShardCount, _shard.ShardIndex, _job.Embeddings);
                _shard = restored;
                _generation = Math.Max(_generation, m.Generation);
                // Pushes buffered or half-assembled before the rollback belong to steps that are undone.
                _assembler = new PushAssembler();
                _steps = new StepBuffer();
                _log.Info("PS shard {0}/{1}: restored {2} rows from {3} snapshot file(s) of step {4}", _shard.ShardIndex, _shard.ShardCount, _shard.Stats().Rows, m.Paths.Length, m.Step);
                Sender.Tell(new SnapshotRestored(_shard.ShardIndex, m.Step, _shard.Stats().Rows, ""));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
            {
                _log.Error(e, "PS shard {0}: restore from step {1} failed", _shard.ShardIndex, m.Step);
                Sender.Tell(new SnapshotRestored(_shard.ShardIndex, m.Step, 0, e.Message));
            }
        });
        Receive<GetShardStats>(_ =>
        {
            var stats = _shard.Stats();
            Sender.Tell(new ShardStats(_shard.ShardIndex, stats.Rows, _pullRequests, _rowsPulled, _pushesApplied, _duplicates, _nanRejected));
        });
    }

    private void Pull(PullRows m)
    {
        var dim = _shard.Dim(m.Table);
        var values = new float[m.Ids.Length * dim];
        _shard.Pull(m.Table, m.Ids, values);
        _pullRequests++;
        _rowsPulled += m.Ids.Length;
        _metrics.RowsPulled.Add(m.Ids.Length);
        foreach (var (start, count) in MessageBudget.Slices(m.Ids.Length, MessageBudget.RowsPerMessage(_options.MaxMessageBytes, dim)))
        {
            var rows = count == m.Ids.Length
                ? new TableRows(m.Table, dim, m.Ids, values)
                : new TableRows(m.Table, dim, m.Ids.AsSpan(start, count).ToArray(), values.AsSpan(start * dim, count * dim).ToArray());
            Sender.Tell(new RowsPulled(m.RequestId, start, m.Ids.Length, rows));
        }
    }

    private void Push(PushGradients m)
    {
        if (m.Generation < _generation)
        {
            // Computed before a rollback this shard was restored in: its step is undone.
            if (++_stale % 100 == 1)
                _log.Info("PS shard {0}: refused a push of batch {1} from generation {2} (now {3}; {4} refused so far)", _shard.ShardIndex, m.BatchId, m.Generation, _generation, _stale);
            if (m.Part == m.Parts - 1) Sender.Tell(new GradientsApplied(m.BatchId, _shard.ShardIndex, PushOutcome.Stale, m.Generation));
            return;
        }
        if (_assembler.Add(m) is not var (rows, counts)) return;
        PushOutcome outcome;
        if (_options.Sync == SyncMode.Bsp)
        {
            _steps.Add(m.Step, m.WorkerIndex, rows, counts);
            outcome = PushOutcome.Buffered;
        }
        else outcome = ApplyAll(rows, counts, m.BatchId, m.Step);
        Sender.Tell(new GradientsApplied(m.BatchId, _shard.ShardIndex, outcome, m.Generation));
    }

    private void Apply(ApplyStep m)
    {
        var combined = _steps.Combine(m.Step, m.Workers, m.Samples);
        ApplyAll(combined.Select(c => c.Rows).ToArray(), combined.Select(c => c.Counts).ToArray(), StepBuffer.BatchIdOf(m.Step), m.Step);
        _steps.DropBefore(m.Step);
        Sender.Tell(new StepApplied(m.Step, _shard.ShardIndex));
    }

    /// <summary>All tables or none: one NaN anywhere in the batch rejects the whole push.</summary>
    private PushOutcome ApplyAll(TableRows[] rows, int[][] counts, long batchId, long step)
    {
        if (rows.Any(r => !Finite.All(r.Values)))
        {
            _nanRejected++;
            _log.Warning("PS shard {0}: push of batch {1} holds NaN/Inf; rejected", _shard.ShardIndex, batchId);
            return PushOutcome.RejectedNaN;
        }
        var duplicate = false;
        for (var t = 0; t < rows.Length; t++)
            duplicate |= _shard.Push(rows[t], batchId, counts[t], step).Status == PushStatus.DuplicateIgnored;
        if (duplicate)
        {
            _duplicates++;
            return PushOutcome.Duplicate;
        }
        _pushesApplied++;
        _metrics.PushesApplied.Increment();
        PublishStats();
        return PushOutcome.Applied;
    }

    /// <summary>Rows, memory and evictions of the shard into its gauges (after each applied push).</summary>
    private void PublishStats()
    {
        var stats = _shard.Stats();
        _metrics.Rows.Set(stats.Rows);
        _metrics.Bytes.Set(stats.Bytes);
        _metrics.Evictions.Set(stats.Evicted);
    }

    /// <summary>This shard's series in <see cref="NodeMetrics"/>.</summary>
    private sealed class PsInstruments(NodeMetrics m, int shard)
    {
        public Gauge Rows { get; } = m.PsRows(shard);
        public Gauge Bytes { get; } = m.PsBytes(shard);
        public Gauge Evictions { get; } = m.PsEvictions(shard);
        public Counter RowsPulled { get; } = m.PsRowsPulled(shard);
        public Counter PushesApplied { get; } = m.PsPushesApplied(shard);
    }
}
