using Akka.Actor;
using DinCluster.Core.Batches;

namespace DinCluster.Cluster.Protocol;

/// <summary>Tells a PS node which shard of the embedding tables it owns.</summary>
public sealed record AssignPsShard(int ShardIndex, int ShardCount, TrainOptions Options) : IDinMessage;

/// <summary>Reply to <see cref="AssignPsShard"/>.</summary>
/// <summary>
/// Reply to <see cref="AssignPsShard"/>; <paramref name="Generation"/>: the newest rollback generation
/// this shard has seen (see <see cref="PushGradients"/>). Shard 0 also hosts the job's
/// <see cref="Actors.DenseParameterActor"/> (fresh at every assignment) and names it in
/// <paramref name="Dense"/>; the other shards send Nobody.
/// </summary>
public sealed record PsShardReady(int ShardIndex, long Generation, IActorRef Dense) : IDinMessage;

/// <summary>Rows of <paramref name="Ids"/> (unique, all owned by the receiving shard) of one table.</summary>
public sealed record PullRows(long RequestId, string Table, long[] Ids) : IDinMessage;

/// <summary>
/// Rows for ids [Offset, Offset + Rows.Ids.Length) of the request; a large pull is answered in
/// several parts so no message exceeds the frame size. Total is the request's id count.
/// </summary>
public sealed record RowsPulled(long RequestId, int Offset, int Total, TableRows Rows) : IDinMessage;

/// <summary>
/// One part of a batch's row gradients for the rows this shard owns (one gradient row per
/// unique id, already summed over the batch). <paramref name="Counts"/>[i][r]: occurrences of
/// Gradients[i].Ids[r] in the batch (admission and the mini-batch aware regularizer). The shard
/// applies the batch when all <paramref name="Parts"/> arrived, once per <paramref name="BatchId"/>;
/// in BSP it buffers until <see cref="ApplyStep"/>.
/// <paramref name="Generation"/>: the rollback generation the worker computed in. Every rollback (and a
/// coordinator takeover) starts a higher one; a shard restored in generation g refuses pushes of an
/// older one (<see cref="PushOutcome.Stale"/>): gradients of undone steps still on the wire when the
/// checkpoint was restored never land on the restored rows.
/// </summary>
public sealed record PushGradients(
    long BatchId, long Step, int WorkerIndex, int Samples, int Part, int Parts, TableRows[] Gradients, int[][] Counts, long Generation) : IDinMessage;

/// <summary>What a shard did with a push.</summary>
public enum PushOutcome
{
    Applied = 0,
    /// <summary>The batch id was applied before (a re-issued batch); ignored.</summary>
    Duplicate = 1,
    /// <summary>BSP: held until the coordinator's <see cref="ApplyStep"/>.</summary>
    Buffered = 2,
    /// <summary>The push held NaN/Inf; nothing of it was applied.</summary>
    RejectedNaN = 3,
    /// <summary>Sent before a rollback this shard has been restored in (an older generation); nothing applied.</summary>
    Stale = 4,
}

/// <summary>Reply to the last part of a <see cref="PushGradients"/>, with the push's generation (a worker ignores replies of an older one).</summary>
public sealed record GradientsApplied(long BatchId, int ShardIndex, PushOutcome Outcome, long Generation) : IDinMessage;

public sealed record GetShardStats : IDinMessage
{
    public static readonly GetShardStats Instance = new();
}

public sealed record ShardStats(
    int ShardIndex, long Rows, long PullRequests, long RowsPulled, long PushesApplied, long DuplicatesIgnored, long NaNRejected) : IDinMessage;

/// <summary>Write this shard's snapshot (weights, slots, counts) to <paramref name="Path"/> on storage the coordinator shares.</summary>
public sealed record WriteSnapshot(long Step, string Path) : IDinMessage;

/// <summary>Reply to <see cref="WriteSnapshot"/>; <paramref name="Error"/> is empty when the file was written.</summary>
public sealed record SnapshotWritten(int ShardIndex, long Step, string Path, string Error) : IDinMessage;

/// <summary>
/// Coordinator -> PS (resume, rollback): replace the shard's tables with the rows of the checkpoint's
/// snapshot files that route to it (any old shard count), dropping buffered bsp pushes and partial pushes.
/// </summary>
/// From then on the shard refuses pushes older than <paramref name="Generation"/>.
public sealed record RestoreSnapshot(long Step, string[] Paths, long Generation) : IDinMessage;

/// <summary>PS -> coordinator: <see cref="RestoreSnapshot"/> done (<see cref="Error"/> empty) or failed.</summary>
public sealed record SnapshotRestored(int ShardIndex, long Step, long Rows, string Error) : IDinMessage;
