namespace DinCluster.Cluster.Protocol;

/// <summary>A role actor (worker, PS shard, data shard) announcing itself; the sender is the actor.</summary>
public sealed record JoinTraining(NodeRole Role) : IDinMessage;

/// <summary>
/// A worker finished a step: its gradients are applied (or, in BSP, buffered) and its batch acked.
/// <paramref name="Clock"/> counts the worker's completed steps.
/// </summary>
/// <summary><paramref name="DenseReplica"/>: the step computed on the worker's own dense replica, and the dense actor confirmed it equal.</summary>
public sealed record StepCompleted(int WorkerIndex, long Clock, long BatchId, int Samples, double Loss, bool DenseReplica) : IDinMessage;

/// <summary>BSP: the worker had no batch for <paramref name="Step"/> (its data shards are drained).</summary>
public sealed record StepSkipped(int WorkerIndex, long Step) : IDinMessage;

/// <summary>SSP: the worker has no batch in hand, so it must not hold the others back.</summary>
public sealed record WorkerWaiting(int WorkerIndex, long Clock) : IDinMessage;
