using DinCluster.Core.Batches;

namespace DinCluster.Cluster.Protocol;

/// <summary>The row groups a data shard serves every epoch (in a seeded order per epoch).</summary>
public sealed record AssignRowGroups(int ShardIndex, RowGroupRef[] RowGroups, TrainOptions Options) : IDinMessage;

public sealed record RowGroupsAssigned(int ShardIndex, long Batches, long Samples) : IDinMessage;

public sealed record StartEpoch(int Epoch) : IDinMessage;

/// <summary>
/// The shard serves <see cref="Epoch"/>. After a coordinator takeover, <see cref="BatchesRolledBack"/> /
/// <see cref="SamplesRolledBack"/> are the batches this shard had seen acked under the lost coordinator
/// that the restored checkpoint does not hold: they are trained again (replayed); 0 otherwise.
/// </summary>
public sealed record EpochStarted(int ShardIndex, int Epoch, long Batches, long Samples, long BatchesRolledBack = 0, long SamplesRolledBack = 0) : IDinMessage;

/// <summary>
/// Every batch of the epoch on this shard is acked. <paramref name="Exact"/>: each sample was
/// consumed exactly once or skipped as bad input (replays of a dead worker's batches are counted apart).
/// </summary>
public sealed record EpochCompleted(
    int ShardIndex, int Epoch, long SamplesConsumed, long SamplesSkipped, long SamplesReplayed, bool Exact) : IDinMessage;

/// <summary>
/// What the shard's readers refused during the epoch (--on-bad-input skip), sent just before its
/// <see cref="EpochCompleted"/>. Arrays are indexed by <c>BadInputReason</c>; a row group decoded
/// twice (a re-issue after a worker died) is counted once.
/// </summary>
public sealed record BadInputCounted(
    int ShardIndex, int Epoch, long[] Rows, long[] RowGroups, long[] Files, long TruncatedHistories) : IDinMessage;

/// <summary>A worker's credit: it wants up to <paramref name="Count"/> more batches from this shard.</summary>
public sealed record RequestBatches(int WorkerIndex, int Count) : IDinMessage;

public sealed record BatchIssued(int ShardIndex, int Epoch, Batch Batch) : IDinMessage;

/// <summary>The shard has nothing pending this epoch right now; the worker's credit stays for re-issues.</summary>
public sealed record NoBatchesLeft(int ShardIndex, int Epoch) : IDinMessage;

/// <summary>The worker pushed the batch's gradients and the shards applied them: the batch is consumed.</summary>
public sealed record BatchAcked(long BatchId, int WorkerIndex) : IDinMessage;

/// <summary>The shard cannot go on (bad input under --on-bad-input fail); the message names file, row group and row.</summary>
public sealed record DataShardFailed(int ShardIndex, string Error) : IDinMessage;

/// <summary>
/// Coordinator -> data shard (resume, rollback): start <see cref="Epoch"/> with the batches of
/// <see cref="ConsumedBatchIds"/> already consumed (their gradients are in the checkpoint) and
/// every worker's credit cleared when <see cref="ClearCredit"/> (a rollback: workers ask again).
/// Replies <see cref="EpochStarted"/>.
/// </summary>
public sealed record RestoreEpoch(int Epoch, long[] ConsumedBatchIds, bool ClearCredit) : IDinMessage;
