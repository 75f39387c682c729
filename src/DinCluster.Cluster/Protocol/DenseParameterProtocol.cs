namespace DinCluster.Cluster.Protocol;

/// <summary>
/// A worker's initial dense weights (from the seeded model). The first one wins; every sender
/// gets the current <see cref="DenseWeights"/> back, so all workers start from one set.
/// </summary>
public sealed record InitDenseWeights(float[] Weights) : IDinMessage;

public sealed record GetDenseWeights(long RequestId) : IDinMessage;

/// <summary>Version counts applied updates (0 = initial weights).</summary>
public sealed record DenseWeights(long RequestId, long Version, float[] Weights) : IDinMessage;

/// <summary>
/// The flat gradient of the mean loss of one batch with respect to the dense weights.
/// <paramref name="ReturnWeights"/>: the reply carries the weights as they are after this push
/// (the worker's next batch computes on them; saves a <see cref="GetDenseWeights"/> round trip).
/// </summary>
public sealed record PushDenseGradients(long BatchId, long Step, int WorkerIndex, int Samples, float[] Gradient, bool ReturnWeights) : IDinMessage;

/// <summary><paramref name="Weights"/> is empty unless the push asked for them (and is never set in bsp, where pushes are buffered).</summary>
public sealed record DenseGradientsApplied(long BatchId, long Version, PushOutcome Outcome, float[] Weights) : IDinMessage;

/// <summary>Asks for the dense weights with their Adam state, for a checkpoint.</summary>
public sealed record GetDenseState(long Step) : IDinMessage;

public sealed record DenseStateSnapshot(long Step, long AdamStep, float[] Values, float[] M, float[] V) : IDinMessage;
