using Akka.Actor;
using Akka.Event;
using DinCluster.Cluster.Ledger;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Sync;
using DinCluster.Core.Optimizers;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// DIN's dense weights with Adam (<see cref="DenseParameters"/> decides). The first worker's
/// initial weights win; pushes are applied once per batch id; in BSP they wait for
/// <see cref="ApplyStep"/> and are applied as one combined step.
/// <code>
///   Uninitialised --InitDenseWeights--> Serving
/// </code>
/// </summary>
public sealed class DenseParameterActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly AdamSettings _adam;
    private readonly bool _bsp;
    private StepBuffer _steps = new();
    /// <summary>Batch ids applied, per epoch; epochs before the previous one are forgotten (their batches are never re-issued).</summary>
    private readonly SortedDictionary<int, HashSet<long>> _applied = [];
    private DenseParameters _dense = null!;
    /// <summary>Rollback generation: pushes of an older one are refused (see <see cref="PushGradients.Generation"/>).</summary>
    private long _generation;

    public DenseParameterActor(AdamSettings adam, bool bsp)
    {
        _adam = adam;
        _bsp = bsp;
        Become(Uninitialised);
    }

    public static Props Props(AdamSettings adam, bool bsp) => Akka.Actor.Props.Create(() => new DenseParameterActor(adam, bsp));

    private void Uninitialised()
    {
        Receive<RestoreDenseState>(Restore);
        Receive<InitDenseWeights>(m =>
        {
            _dense = new DenseParameters(m.Weights, _adam);
            _log.Info("dense parameters: {0} weights", m.Weights.Length);
            Reply(0);
            Become(Serving);
        });
    }

    private void Serving()
    {
        Receive<InitDenseWeights>(_ => Reply(0));
        Receive<RestoreDenseState>(Restore);
        Receive<GetDenseWeights>(m => Reply(m.RequestId));
        Receive<GetDenseState>(m =>
        {
            // Also how a worker (re)starts its replica: the state it gets is the one the next push is checked against.
            var state = _dense.Export();
            Sender.Tell(new DenseStateSnapshot(m.Step, state.Step, state.Values, state.M, state.V));
        });
        Receive<PushDenseGradients>(m =>
        {
            PushOutcome outcome;
            var before = _dense.Step;
            if (m.Generation < _generation) outcome = PushOutcome.Stale;
            else if (_bsp)
            {
                _steps.AddDense(m.Step, m.WorkerIndex, m.Gradient);
                outcome = PushOutcome.Buffered;
            }
            else if (!FirstPush(m.BatchId)) outcome = PushOutcome.Duplicate;
            else outcome = ApplyGradient(m.Gradient, m.BatchId);
            // The worker applied this gradient to its replica of version `before` with the same Adam
            // step (or refused it as non-finite, as here): both now hold the same weights.
            var inSync = !_bsp && m.ReplicaVersion == before && outcome is not (PushOutcome.Duplicate or PushOutcome.Stale);
            var weights = m.ReturnWeights && !_bsp && !inSync ? (float[])_dense.Values.Clone() : [];
            Sender.Tell(new DenseGradientsApplied(m.BatchId, _dense.Step, outcome, weights, inSync, inSync ? DenseChecksum.Of(_dense.Values) : 0, m.Generation));
        });
        Receive<ApplyStep>(m =>
        {
            if (_steps.CombineDense(m.Step, m.Workers, m.Samples) is { } g) ApplyGradient(g, StepBuffer.BatchIdOf(m.Step));
            _steps.DropBefore(m.Step);
            Sender.Tell(new StepApplied(m.Step, -1));
        });
    }

    /// <summary>Resume / rollback: the checkpoint's weights and Adam state; pushes of undone steps are forgotten.</summary>
    private void Restore(RestoreDenseState m)
    {
        _dense = DenseParameters.Import(new DenseState(m.AdamStep, m.Values, m.M, m.V), _adam);
        _generation = Math.Max(_generation, m.Generation);
        _steps = new StepBuffer();
        _applied.Clear();
        _log.Info("dense parameters: restored {0} weights (Adam step {1}) of checkpoint step {2}", m.Values.Length, m.AdamStep, m.Step);
        Sender.Tell(new DenseStateRestored(m.Step));
        Become(Serving);
    }

    private bool FirstPush(long batchId)
    {
        var epoch = BatchTicket.EpochOf(batchId);
        if (!_applied.TryGetValue(epoch, out var ids))
        {
            _applied[epoch] = ids = [];
            foreach (var old in _applied.Keys.Where(e => e < epoch - 1).ToList()) _applied.Remove(old);
        }
        return ids.Add(batchId);
    }

    private PushOutcome ApplyGradient(float[] gradient, long batchId)
    {
        if (_dense.Apply(gradient)) return PushOutcome.Applied;
        _log.Warning("dense parameters: gradient of batch {0} holds NaN/Inf; rejected", batchId);
        return PushOutcome.RejectedNaN;
    }

    private void Reply(long requestId) => Sender.Tell(new DenseWeights(requestId, _dense.Step, (float[])_dense.Values.Clone()));
}
