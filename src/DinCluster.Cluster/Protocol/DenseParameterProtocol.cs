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
/// (the worker's next batch computes on them; saves a <see cref="GetDenseWeights"/> round trip),
/// unless the worker's replica is known to hold them already.
/// <paramref name="ReplicaVersion"/>: the version of the worker's dense replica this gradient was
/// computed on, or -1 when the worker holds none. When it equals the actor's version, the actor
/// applies the same Adam step the worker applied to its replica, and the two stay identical.
/// </summary>
/// <paramref name="Generation"/>: as <see cref="PushGradients.Generation"/>.
public sealed record PushDenseGradients(long BatchId, long Step, int WorkerIndex, int Samples, float[] Gradient, bool ReturnWeights, long ReplicaVersion, long Generation) : IDinMessage;

/// <summary>
/// <paramref name="ReplicaInSync"/>: the push was computed on the actor's current version, so the
/// worker's replica (which applied the same step) equals the weights of <paramref name="Version"/>;
/// <paramref name="Checksum"/> (<see cref="DenseChecksum"/> of those weights) lets the worker verify it.
/// <paramref name="Weights"/> is empty then, and also when the push did not ask for them (and in bsp,
/// where pushes are buffered).
/// </summary>
public sealed record DenseGradientsApplied(long BatchId, long Version, PushOutcome Outcome, float[] Weights, bool ReplicaInSync, ulong Checksum, long Generation) : IDinMessage;

/// <summary>Asks for the dense weights with their Adam state, for a checkpoint.</summary>
public sealed record GetDenseState(long Step) : IDinMessage;

public sealed record DenseStateSnapshot(long Step, long AdamStep, float[] Values, float[] M, float[] V) : IDinMessage;

/// <summary>Coordinator -> dense parameters (resume, rollback): weights and Adam state of a checkpoint; pushes older than <paramref name="Generation"/> are refused from then on.</summary>
public sealed record RestoreDenseState(long Step, long AdamStep, float[] Values, float[] M, float[] V, long Generation) : IDinMessage;

public sealed record DenseStateRestored(long Step) : IDinMessage;
