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
/// </code>
/// </summary>
public sealed class DataShardActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _coordinator;
    private readonly CreditWindow _credit = new();
    private readonly Dictionary<int, IActorRef> _workers = [];
    private int _index;
    private RowGroupRef[] _groups = [];
    private TrainJob _job = null!;
    private BehaviourLogReader _reader = null!;
    private RowGroupLedger? _ledger;
    private RowGroupRef[] _epochOrder = [];
    private (int Ordinal, Batch Rows)? _decoded;
    private bool _reported;

    public DataShardActor(IActorRef coordinator)
    {
        _coordinator = coordinator;
        Become(Unassigned);
    }

    public static Props Props(IActorRef coordinator) => Akka.Actor.Props.Create(() => new DataShardActor(coordinator));

    protected override void PreStart() => _coordinator.Tell(new JoinTraining(NodeRole.DataShard));

    private void Unassigned() => Receive<AssignRowGroups>(Assign);

    private void Assign(AssignRowGroups m)
    {
        _index = m.ShardIndex;
        _groups = m.RowGroups;
        _job = TrainJobJson.Read(m.Options.JobJson);
        _reader = new BehaviourLogReader(_job.Schema, _job.OnBadInput);
        var plan = BatchTicket.Plan(0, _index, _groups, _job.BatchSize);
        _log.Info("data shard {0}: {1} row groups, {2} rows, {3} batches per epoch", _index, _groups.Length, _groups.Sum(g => g.Rows), plan.Count);
        Sender.Tell(new RowGroupsAssigned(_index, plan.Count, _groups.Sum(g => g.Rows)));
        Become(Serving);
    }

    private void Serving()
    {
        Receive<StartEpoch>(m =>
        {
            _epochOrder = BatchTicket.EpochOrder(_groups, _job.Seed, m.Epoch, _index);
            _ledger = new RowGroupLedger(m.Epoch, BatchTicket.Plan(m.Epoch, _index, _epochOrder, _job.BatchSize));
            _decoded = null;
            _reported = false;
            Sender.Tell(new EpochStarted(_index, m.Epoch, _ledger.Batches, _ledger.SamplesExpected));
            Serve();
            ReportIfComplete();
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
            _decoded = d = (ticket.GroupOrdinal, _reader.ReadRowGroup(g.File, g.RowGroup, ticket.BatchId));
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
        _coordinator.Tell(new EpochCompleted(_index, l.Epoch, l.SamplesConsumed, l.SamplesSkipped, l.SamplesReplayed, l.IsExact));
    }
}
