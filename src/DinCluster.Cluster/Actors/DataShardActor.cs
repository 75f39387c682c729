using Akka.Actor;
using Akka.Event;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Observability;
using DinCluster.Cluster.Ledger;
using DinCluster.Cluster.Protocol;
using DinCluster.Core.Batches;
using DinCluster.Data;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// Serves the batches of its row groups to workers on credit, with the
/// <see cref="RowGroupLedger"/> deciding what is issued, consumed and re-issued. Watches every
/// worker it served: a dead worker's unacked batches go back to the front of the queue.
/// Reads Parquet synchronously, so it runs on the data dispatcher, never the default pool.
/// <code>
///   Unassigned --AssignRowGroups--> Assigned --StartEpoch--> Serving --(all acked)--> EpochCompleted to coordinator
///                                        ^------------------------------------------------'  (next StartEpoch)
///   Serving --its coordinator gone--> Serving with no epoch (credit dropped; announces itself to the next one)
///           --AssignRowGroups from another coordinator--> Serving --RestoreEpoch--> ...
/// </code>
/// After a coordinator takeover the batches acked under the lost coordinator that the restored
/// checkpoint does not hold are reported as rolled back (<see cref="EpochStarted"/>): they are trained again.
/// </summary>
public sealed class DataShardActor : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _coordinator;
    private readonly CreditWindow _credit = new();
    private readonly Dictionary<int, IActorRef> _workers = [];
    private int _index;
    private RowGroupRef[] _groups = [];
    private TrainJob _job = null!;
    private RowGroupLedger? _ledger;
    private RowGroupRef[] _epochOrder = [];
    private (int Ordinal, Batch Rows)? _decoded;
    private bool _reported;
    // What this epoch's reads refused; a row group decoded again (after a re-issue) is not counted twice.
    private BadInputCounts _epochBadInput = new();
    private readonly HashSet<int> _countedGroups = [];
    private readonly CoordinatorLink _link;
    // The ledger that was running when the coordinator was lost: what the next epoch start rolls back.
    private RowGroupLedger? _lostLedger;

    public DataShardActor(IActorRef coordinator)
    {
        _coordinator = coordinator;
        _link = new CoordinatorLink(coordinator, NodeRole.DataShard);
        Become(Unassigned);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef coordinator) => Akka.Actor.Props.Create(() => new DataShardActor(coordinator));

    protected override void PreStart() => _link.Join(Timers);

    private void Unassigned()
    {
        Receive<AssignRowGroups>(Assign);
        Receive<RejoinTick>(_ => _link.Tick(Timers));
    }

    private void Assign(AssignRowGroups m)
    {
        if (_link.Assigned(Context, Timers, Sender))
        {
            _log.Info("data shard {0}: assigned again by a new coordinator ({1})", m.ShardIndex, Sender.Path);
            DropEpoch();
        }
        _index = m.ShardIndex;
        _groups = m.RowGroups;
        _job = TrainJobJson.Read(m.Options.JobJson);
        var plan = BatchTicket.Plan(0, _index, _groups, _job.BatchSize);
        _log.Info("data shard {0}: {1} row groups, {2} rows, {3} batches per epoch", _index, _groups.Length, _groups.Sum(g => g.Rows), plan.Count);
        Sender.Tell(new RowGroupsAssigned(_index, plan.Count, _groups.Sum(g => g.Rows)));
        Become(Serving);
    }

    /// <summary>The coordinator is gone: no batch is issued until a new one starts an epoch; workers ask again.</summary>
    private void DropEpoch()
    {
        if (_ledger is not null) _lostLedger = _ledger;
        _ledger = null;
        _decoded = null;
        foreach (var w in _workers.Values) Context.Unwatch(w);
        _workers.Clear();
        _credit.Clear();
    }

    private void Serving()
    {
        Receive<AssignRowGroups>(Assign);
        Receive<RejoinTick>(_ => _link.Tick(Timers));
        Receive<StartEpoch>(m => Start(m.Epoch, []));
        Receive<RestoreEpoch>(m =>
        {
            // Credit granted before the rollback is for batches the workers dropped; they ask again.
            if (m.ClearCredit) _credit.Clear();
            Start(m.Epoch, m.ConsumedBatchIds);
        });
        Receive<RequestBatches>(m =>
        {
            if (_workers.TryAdd(m.WorkerIndex, Sender)) Context.Watch(Sender);
            _credit.Grant(m.WorkerIndex, m.Count);
            Serve();
            if (_ledger is null || _ledger.Pending == 0) Sender.Tell(new NoBatchesLeft(_index, _ledger?.Epoch ?? 0));
        });
        Receive<BatchAcked>(m =>
        {
            if (_ledger?.Ack(m.BatchId) == AckOutcome.Unknown)
                _log.Warning("data shard {0}: ack of batch {1} from worker {2} is not of epoch {3}", _index, m.BatchId, m.WorkerIndex, _ledger.Epoch);
            ReportIfComplete();
        });
        Receive<Terminated>(m =>
        {
            var loss = _link.Lost(Context, Timers, m.ActorRef);
            if (loss == LinkLoss.NodeLeaving) return;
            if (loss == LinkLoss.Lost)
            {
                _log.Warning("data shard {0}: the coordinator {1} is gone; epoch {2} stops here ({3} of {4} batches acked) until the next coordinator restores it",
                    _index, m.ActorRef.Path, _ledger?.Epoch ?? 0, _ledger?.Batches - _ledger?.Pending - _ledger?.InFlight ?? 0, _ledger?.Batches ?? 0);
                DropEpoch();
                return;
            }
            var worker = _workers.FirstOrDefault(kv => kv.Value.Equals(m.ActorRef));
            if (worker.Value is null) return;
            _workers.Remove(worker.Key);
            _credit.Remove(worker.Key);
            var released = _ledger?.ReleaseWorker(worker.Key) ?? 0;
            // A worker stopping once the epoch is drained (the end of a job) loses nothing.
            if (released > 0 || _ledger is { IsComplete: false })
                _log.Warning("data shard {0}: worker {1} died; {2} unacked batches go back to the queue", _index, worker.Key, released);
            else
                _log.Info("data shard {0}: worker {1} stopped after the epoch was consumed", _index, worker.Key);
            Serve();
        });
    }

    private void Start(int epoch, long[] consumed)
    {
        _epochOrder = BatchTicket.EpochOrder(_groups, _job.Seed, epoch, _index);
        _ledger = new RowGroupLedger(epoch, BatchTicket.Plan(epoch, _index, _epochOrder, _job.BatchSize));
        if (consumed.Length > 0)
            _log.Info("data shard {0}: epoch {1} restored with {2} of {3} batches consumed", _index, epoch, _ledger.RestoreConsumed(consumed), _ledger.Batches);
        // After a takeover: what was acked under the lost coordinator and is not in the checkpoint is trained again.
        // A ledger of an earlier epoch than the restored one was completed (its end is checkpointed); one of a later
        // epoch (no such checkpoint) is redone whole.
        var (rolledBatches, rolledSamples) = _lostLedger is { } lost && lost.Epoch >= epoch
            ? lost.ConsumedExcept(lost.Epoch == epoch ? consumed : [])
            : (0, 0L);
        _lostLedger = null;
        if (rolledBatches > 0)
            _log.Info("data shard {0}: {1} batches ({2} samples) acked under the lost coordinator are not in the checkpoint; they are trained again", _index, rolledBatches, rolledSamples);
        _decoded = null;
        _reported = false;
        _epochBadInput = new BadInputCounts();
        _countedGroups.Clear();
        Sender.Tell(new EpochStarted(_index, epoch, _ledger.Batches, _ledger.SamplesExpected, rolledBatches, rolledSamples));
        Serve();
        ReportIfComplete();
    }

    /// <summary>Issues pending batches while some worker has credit.</summary>
    private void Serve()
    {
        if (_ledger is null) return;
        while (_ledger.Pending > 0 && _credit.TryTake(out var worker))
        {
            var ticket = _ledger.Issue(worker)!;
            Batch batch;
            try
            {
                batch = Read(ticket);
            }
            catch (BadInputException e)
            {
                _log.Error("data shard {0}: {1}", _index, e.Message);
                _coordinator.Tell(new DataShardFailed(_index, e.Message));
                Become(Failed);
                return;
            }
            if (batch.Count < ticket.Count) _ledger.RecordShortfall(ticket.BatchId, batch.Count);
            if (batch.Count == 0)
            {
                // Every row of the batch was bad and skipped: nothing to train on; give the credit back.
                _ledger.Ack(ticket.BatchId);
                _credit.Grant(worker, 1);
                continue;
            }
            _workers[worker].Tell(new BatchIssued(_index, _ledger.Epoch, batch));
        }
        ReportIfComplete();
    }

    private void Failed() => ReceiveAny(_ => { });

    /// <summary>Rows [Offset, Offset + Count) of the ticket's row group, counting only good rows.</summary>
    private Batch Read(BatchTicket ticket)
    {
        if (_decoded is not { } d || d.Ordinal != ticket.GroupOrdinal)
        {
            var g = _epochOrder[ticket.GroupOrdinal];
            var counts = new BadInputCounts();
            var reader = new BehaviourLogReader(_job.Schema, _job.OnBadInput, counts);
            _decoded = d = (ticket.GroupOrdinal, reader.ReadRowGroup(g.File, g.RowGroup, ticket.BatchId));
            if (_countedGroups.Add(ticket.GroupOrdinal))
            {
                _epochBadInput.Merge(counts);
                if (counts.TotalSkippedRows + counts.TotalSkippedRowGroups + counts.TotalSkippedFiles > 0)
                    _log.Warning("data shard {0}: {1} row group {2}: bad input skipped ({3})", _index, g.File, g.RowGroup, counts);
            }
        }
        var start = Math.Min(ticket.Offset, d.Rows.Count);
        return d.Rows.Slice(start, Math.Min(ticket.Count, d.Rows.Count - start), ticket.BatchId);
    }

    private void ReportIfComplete()
    {
        // Queue depths into this shard's gauges: called after every issue and ack.
        var metrics = NodeMetrics.Get(Context.System);
        metrics.DataCredit(Self.Path.Name).Set(_credit.Outstanding);
        metrics.DataInFlight(Self.Path.Name).Set(_ledger?.InFlight ?? 0);
        metrics.DataPending(Self.Path.Name).Set(_ledger?.Pending ?? 0);
        if (_ledger is not { IsComplete: true } l || _reported) return;
        _reported = true;
        if (!_epochBadInput.IsEmpty)
        {
            var (rows, groups, files) = _epochBadInput.ToArrays();
            _coordinator.Tell(new BadInputCounted(_index, l.Epoch, rows, groups, files, _epochBadInput.TruncatedHistories));
        }
        _coordinator.Tell(new EpochCompleted(_index, l.Epoch, l.SamplesConsumed, l.SamplesSkipped, l.SamplesReplayed, l.IsExact));
    }
}
