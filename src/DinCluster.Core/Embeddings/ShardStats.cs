namespace DinCluster.Core.Embeddings;

/// <summary>Counters of one table on one shard since the shard started (not carried over by a restore).</summary>
/// <param name="Table">Table name.</param>
/// <param name="Dim">Row width.</param>
/// <param name="Rows">Rows held now.</param>
/// <param name="Bytes">Memory allocated for the table: weight and slot slabs, row metadata, id map, admission sketch.</param>
/// <param name="Admitted">Rows created.</param>
/// <param name="EvictedTtl">Rows evicted for not being pushed within the TTL.</param>
/// <param name="EvictedCap">Rows evicted as least frequent when the table passed its row cap.</param>
/// <param name="NotAdmitted">Row updates dropped because the id had not reached the admission count.</param>
/// <param name="PushesApplied">Pushes applied.</param>
/// <param name="DuplicatePushesIgnored">Pushes ignored for a batch id already applied.</param>
/// <param name="NonFinitePushesRejected">Pushes refused for a NaN or Inf gradient.</param>
public sealed record TableStats(
    string Table,
    int Dim,
    long Rows,
    long Bytes,
    long Admitted,
    long EvictedTtl,
    long EvictedCap,
    long NotAdmitted,
    long PushesApplied,
    long DuplicatePushesIgnored,
    long NonFinitePushesRejected)
{
    public long Evicted => EvictedTtl + EvictedCap;
}

/// <summary>The answer to a shard-stats query: per-table counters and their totals.</summary>
public sealed record ShardStats(int ShardIndex, IReadOnlyList<TableStats> Tables)
{
    public long Rows => Tables.Sum(t => t.Rows);
    public long Bytes => Tables.Sum(t => t.Bytes);
    public long Admitted => Tables.Sum(t => t.Admitted);
    public long Evicted => Tables.Sum(t => t.Evicted);
    public long NotAdmitted => Tables.Sum(t => t.NotAdmitted);
    public long PushesApplied => Tables.Sum(t => t.PushesApplied);
    public long DuplicatePushesIgnored => Tables.Sum(t => t.DuplicatePushesIgnored);
    public long NonFinitePushesRejected => Tables.Sum(t => t.NonFinitePushesRejected);
}

/// <summary>A stored row with its optimizer state, as read for inspection or export.</summary>
/// <param name="Id">The row's id.</param>
/// <param name="Weights">The embedding.</param>
/// <param name="Slots">Optimizer slot rows (Adagrad: accumulator; Adam: m, v; FTRL: z, n).</param>
/// <param name="Count">Occurrences pushed so far (n_j of the mini-batch aware regularizer; eviction frequency).</param>
/// <param name="Updates">Pushes applied to the row (Adam's per-row step).</param>
/// <param name="LastStep">Table step of its last push.</param>
public sealed record RowState(long Id, float[] Weights, float[][] Slots, int Count, int Updates, long LastStep);
