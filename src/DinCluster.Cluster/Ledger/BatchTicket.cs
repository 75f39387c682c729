using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Ledger;

/// <summary>
/// One batch of an epoch on a data shard: rows [Offset, Offset + Count) of the shard's
/// row group number <see cref="GroupOrdinal"/>. Batches never span row groups.
/// </summary>
public sealed record BatchTicket(long BatchId, int GroupOrdinal, int Offset, int Count)
{
    /// <summary>
    /// The batches of one epoch on one shard, in reading order. Batch ids are stable across
    /// re-issues and unique per (epoch, shard, sequence), which is what PS dedup relies on:
    /// <code>
    ///   bits 63..40 epoch | 39..32 shard | 31..0 sequence
    /// </code>
    /// </summary>
    public static IReadOnlyList<BatchTicket> Plan(int epoch, int shard, IReadOnlyList<RowGroupRef> groups, int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "at least 1");
        if (shard is < 0 or > 255) throw new ArgumentOutOfRangeException(nameof(shard), shard, "0..255");
        var tickets = new List<BatchTicket>();
        for (var g = 0; g < groups.Count; g++)
            for (long offset = 0; offset < groups[g].Rows; offset += batchSize)
            {
                var id = ((long)epoch << 40) | ((long)shard << 32) | (uint)tickets.Count;
                tickets.Add(new BatchTicket(id, g, (int)offset, (int)Math.Min(batchSize, groups[g].Rows - offset)));
            }
        return tickets;
    }

    public static int EpochOf(long batchId) => (int)(batchId >> 40);

    public static int ShardOf(long batchId) => (int)((batchId >> 32) & 0xFF);

    /// <summary>A shard's row groups in the seeded order of one epoch (as the local trainer shuffles per epoch).</summary>
    public static RowGroupRef[] EpochOrder(IReadOnlyList<RowGroupRef> groups, long seed, int epoch, int shard)
    {
        RowGroupRef[] order = [.. groups];
        new Random(unchecked((int)seed * 7919 + epoch + 104729 * shard)).Shuffle(order);
        return order;
    }
}
