namespace DinCluster.Cluster.Protocol;

/// <summary>
/// BSP barrier, from the coordinator to every PS shard and the dense parameters: apply the
/// buffered pushes of <paramref name="Step"/> from <paramref name="Workers"/> as one update,
/// combined in this (ascending) worker order, worker Workers[i] weighted by Samples[i] / sum(Samples).
/// The weights travel here, not with the pushes: a shard may hold rows of only some workers.
/// </summary>
public sealed record ApplyStep(long Step, int[] Workers, int[] Samples) : IDinMessage;

/// <summary>Reply to <see cref="ApplyStep"/>; ShardIndex -1 is the dense parameters.</summary>
public sealed record StepApplied(long Step, int ShardIndex) : IDinMessage;
