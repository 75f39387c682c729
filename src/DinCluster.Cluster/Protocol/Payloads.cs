namespace DinCluster.Cluster.Protocol;

/// <summary>One Parquet row group: the unit the coordinator assigns to data shards and evaluators.</summary>
public sealed record RowGroupRef(string File, int RowGroup, long Rows);

/// <summary>How workers synchronise. <see cref="Ssp"/> uses <see cref="TrainOptions.Staleness"/>.</summary>
public enum SyncMode
{
    /// <summary>Every worker pushes and pulls at its own pace (Hogwild-style PS).</summary>
    Async = 0,
    /// <summary>Stale-synchronous: no worker more than K steps ahead of the slowest.</summary>
    Ssp = 1,
    /// <summary>Bulk-synchronous: one global step applies all workers' gradients at once, in worker order.</summary>
    Bsp = 2,
}

/// <summary>The roles a node can have; a simulated node may hold several.</summary>
public enum NodeRole
{
    Coordinator = 0,
    Worker = 1,
    ParameterServer = 2,
    DataShard = 3,
}

/// <summary>
/// What every node needs to take part in a job, sent by the coordinator when training starts, so a
/// node started with only a role, a port and seeds learns the job from the cluster.
/// </summary>
/// <param name="Credit">Batches a worker keeps requested per data shard (its prefetch depth).</param>
/// <param name="MaxMessageBytes">Pulls, pushes and replies are split so no payload exceeds this (below the frame size).</param>
/// <param name="JobJson">The <see cref="Jobs.TrainJob"/> as written by <see cref="Jobs.TrainJobJson"/>: configuration
/// only (schema, model, optimizers), never tensor or row data.</param>
public sealed record TrainOptions(SyncMode Sync, int Staleness, int Credit, int MaxMessageBytes, string JobJson);
